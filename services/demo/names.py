"""Synthetic name material of the region, and the ways documents write a Cyrillic name.

Given names and surnames are common ones, drawn separately and combined at random, so every
person is invented. Names are held in Cyrillic (the national Cyrillic alphabets) and written
by a transliteration standard: the Russian ones come from the ``iuliia`` tables; the national
Latin alphabets (Kazakh 2021, Turkmen) from small tables here, since iuliia has none.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

import iuliia  # type: ignore[import-untyped]


class Standard(StrEnum):
    CYRILLIC = "cyrillic"
    ICAO = "icao_9303"
    MVD_310 = "mvd_310"
    MVD_782 = "mvd_782"
    BGN_PCGN = "bgn_pcgn"
    GOST_52535 = "gost_52535"
    UZBEK_LATIN = "uzbek_latin"
    KAZAKH_2021 = "kazakh_2021"
    TURKMEN_LATIN = "turkmen_latin"


@dataclass(frozen=True)
class NameBook:
    surnames: tuple[str, ...]
    male: tuple[str, ...]
    female: tuple[str, ...]


def _t(text: str) -> tuple[str, ...]:
    return tuple(text.split())


BOOKS: dict[str, NameBook] = {
    "UZB": NameBook(
        _t("Холматов Каримов Юсупов Рахимов Абдуллаев Тошматов Эргашев Исмоилов Қодиров Жўраев "
           "Ҳасанов Назаров Мирзаев Умаров Турсунов Ғафуров Сафаров Шарипов Ёқубов Норматов"),
        _t("Алишер Бобур Жасур Шерзод Ботир Улуғбек Фаррух Отабек Дилшод Санжар Равшан Зафар "
           "Баҳодир Шавкат Абдулла Акмал"),
        _t("Дилноза Гулнора Нигора Мадина Шаҳноза Зарина Феруза Малика Нодира Саида"),
    ),
    "KAZ": NameBook(
        _t("Нұрланов Сейтқалиев Жұмабаев Ахметов Серікбаев Оспанов Әбдірахманов Қасымов "
           "Бекмұханбетов Тоқтаров Байжанов Есенов Сағындықов Өтегенов"),
        _t("Нұрсұлтан Ерлан Асқар Дәулет Бауыржан Арман Ержан Серік Қанат Мұрат Айдос Ғалым"),
        _t("Әлия Айгерім Гүлнар Жанар Динара Меруерт Сәуле Аружан Ақмарал Жансая"),
    ),
    "KGZ": NameBook(
        _t("Токтогулов Асанов Жээнбеков Осмоналиев Бакиров Усенов Маматов Калыков "
           "Сатыбалдиев Турдубаев Жолдошев Абдыкеримов"),
        _t("Азамат Бакыт Улан Нурбек Эрмек Талант Мирлан Алмаз Чынгыз Жоомарт Эмил Нурлан"),
        _t("Айпери Бурул Жылдыз Нургүл Айзада Чолпон Гулайым Элнура Бегимай Асель"),
    ),
    "TJK": NameBook(
        _t("Раҳмонов Саидов Шарипов Ҳайдаров Давлатов Қурбонов Мирзоев Зиёев Абдуллоев "
           "Ҷалолов Назаров Сафаров Юсуфов Холов"),
        _t("Фирдавс Сухроб Манучеҳр Фаридун Ҷамшед Рустам Далер Шаҳром Парвиз Бахтиёр"),
        _t("Мадина Нилуфар Фарангис Зарина Гулчеҳра Мижгона Таҳмина Шабнам Парвина"),
    ),
    "TKM": NameBook(
        _t("Атаев Язмырадов Овезов Гурбанов Аннаев Мамедов Чарыев Бяшимов Хыдыров Реджепов "
           "Оразов Гельдиев Ходжаев Сапаров"),
        _t("Мерген Сердар Агаджан Батыр Довлет Максат Нурмухаммет Ыхлас Гурбан Акмырат"),
        _t("Огулджерен Айгуль Марал Джемал Энеджан Бахар Гозель Селби Огулнабат"),
    ),
    "RUS": NameBook(
        _t("Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров "
           "Морозов Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев "
           "Орлов Андреев Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Щербаков"),
        _t("Александр Сергей Дмитрий Андрей Алексей Максим Евгений Иван Михаил Артём Николай "
           "Юрий Владимир Олег Павел Вячеслав"),
        _t("Елена Ольга Наталья Татьяна Ирина Светлана Юлия Анна Мария Екатерина Ксения "
           "Анастасия Людмила"),
    ),
}  # fmt: skip

_FEMININE_SUFFIXES = ("ов", "ев", "ёв", "ин")
_PATRONYMIC_VOWEL_ENDINGS = "аяоеиуыэюё"


def feminine(surname: str) -> str:
    """Slavic-style surnames take -a for a woman (Каримов -> Каримова)."""
    if surname.endswith(_FEMININE_SUFFIXES):
        return surname + "а"
    if surname.endswith("ий"):
        return surname[:-2] + "ая"
    return surname


def patronymic(father: str, sex: str) -> str | None:
    """Russian-style patronymic, as passports of the region print it; None when irregular."""
    if father.endswith(("й", "ь")):
        stem, endings = father[:-1], ("евич", "евна")
    elif father[-1].lower() in _PATRONYMIC_VOWEL_ENDINGS:
        return None
    else:
        stem, endings = father, ("ович", "овна")
    return stem + (endings[1] if sex == "F" else endings[0])


def pick(rng: random.Random, items: tuple[str, ...]) -> str:
    return items[rng.randrange(len(items))]


# --- transliteration ----------------------------------------------------------------------------

# National Cyrillic letters -> the Russian letter the Russian-based standards would use.
_TO_RUSSIAN = str.maketrans("әғқңөұүһіўҳҷӣӯҗӘҒҚҢӨҰҮҺІЎҲҶӢӮҖ", "агкноуухиухжиужАГКНОУУХИУХЖИУЖ")
_RUSSIAN_SCHEMAS = {
    Standard.ICAO: iuliia.ICAO_DOC_9303,
    Standard.MVD_310: iuliia.MVD_310,
    Standard.MVD_782: iuliia.MVD_782,
    Standard.BGN_PCGN: iuliia.BGN_PCGN,
    Standard.GOST_52535: iuliia.GOST_52535,
}

# Kazakh Latin alphabet of 2021 (decree 2021), Turkmen Latin alphabet (1993/1999).
_KAZAKH_2021 = {
    "а": "a", "ә": "ä", "б": "b", "в": "v", "г": "g", "ғ": "ğ", "д": "d", "е": "e", "ё": "io",
    "ж": "j", "з": "z", "и": "i", "й": "i", "к": "k", "қ": "q", "л": "l", "м": "m", "н": "n",
    "ң": "ñ", "о": "o", "ө": "ö", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ұ": "ū",
    "ү": "ü", "ф": "f", "х": "h", "һ": "h", "ц": "ts", "ч": "ç", "ш": "ş", "щ": "şş", "ъ": "",
    "ы": "y", "і": "ı", "ь": "", "э": "e", "ю": "iu", "я": "ia",
}  # fmt: skip
_TURKMEN = {
    "а": "a", "ә": "ä", "б": "b", "в": "w", "г": "g", "д": "d", "е": "e", "ё": "ýo", "ж": "ž",
    "җ": "j", "з": "z", "и": "i", "й": "ý", "к": "k", "л": "l", "м": "m", "н": "n", "ң": "ň",
    "о": "o", "ө": "ö", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ү": "ü", "ф": "f",
    "х": "h", "ц": "s", "ч": "ç", "ш": "ş", "щ": "ş", "ъ": "", "ы": "y", "ь": "", "э": "e",
    "ю": "ýu", "я": "ýa",
}  # fmt: skip


def _by_table(text: str, table: dict[str, str]) -> str:
    out: list[str] = []
    for char in text:
        lower = char.lower()
        # letters of another national alphabet: as the Russian-based standards write them
        latin = table.get(lower) or table.get(lower.translate(_TO_RUSSIAN), char)
        out.append(latin.capitalize() if char.isupper() else latin)
    return "".join(out)


def _russian(text: str, standard: Standard) -> str:
    latin: str = _RUSSIAN_SCHEMAS[standard].translate(text.translate(_TO_RUSSIAN))
    # iuliia's BGN/PCGN table keeps the Cyrillic ё; the standard writes ë.
    return latin.replace("ё", "ë").replace("Ё", "Ë")


_UZBEK_FOLD = str.maketrans("әөұүіһңҷӣӯҗӘӨҰҮІҺҢҶӢӮҖ", "аоууиҳнжийжАОУУИҲНЖИЙЖ")


def _uzbek(text: str) -> str:
    folded = text.translate(_UZBEK_FOLD)
    result: str = iuliia.UZ.translate(folded)
    return result


def write(text: str, standard: Standard) -> str:
    """``text`` (Cyrillic) as the standard writes it; upper case as documents print names."""
    if standard is Standard.CYRILLIC:
        return text.upper()
    if standard is Standard.KAZAKH_2021:
        return _by_table(text, _KAZAKH_2021).upper()
    if standard is Standard.TURKMEN_LATIN:
        return _by_table(text, _TURKMEN).upper()
    if standard is Standard.UZBEK_LATIN:
        return _uzbek(text).upper()
    return _russian(text, standard).upper()


_MRZ_SPECIAL = str.maketrans({"ı": "I", "ß": "SS", "Ø": "O", "Æ": "AE", "Œ": "OE"})


def mrz_name(latin: str) -> str:
    """A Latin name as the MRZ holds it: A-Z only, accents dropped, spaces and hyphens as '<'."""
    decomposed = unicodedata.normalize("NFKD", latin.translate(_MRZ_SPECIAL).upper())
    out = []
    for char in decomposed:
        if "A" <= char <= "Z":
            out.append(char)
        elif char in " -":
            out.append("<")
    return "".join(out)
