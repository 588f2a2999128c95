"""Names the labelled set does not contain: national Latin alphabets and combined changes.

Every name here is invented for the test; the spellings follow the published alphabets
(Uzbek Latin 1995, Kazakh Latin 2018/2021, Turkmen Latin 1993) and ICAO/MVD/BGN practice.
"""

from __future__ import annotations

import pytest

from tests.unit.matcher.helpers import event, person_entry, screen


def _entry(surname: str, given: str, dob: str | None = "1990-05-12") -> dict[str, object]:
    return person_entry(
        "RED-T-1", [{"surname": surname, "given_names": given}], date_of_birth=dob, sex="M"
    )


@pytest.mark.parametrize(
    ("surname", "given"),
    [("YOQUBOV", "JASUR"), ("YOKUBOV", "JASUR"), ("EKUBOV", "ZHASUR"), ("Yoqubov", "Jasur")],
)
def test_uzbek_names_match_their_cyrillic_entry_strongly(surname: str, given: str) -> None:
    matches = screen([_entry("Ёкубов", "Жасур")], event(surname, given, date_of_birth="1990-05-12"))
    assert [(m.entry_id, m.band) for m in matches] == [("RED-T-1", "strong")]


_NATIONAL_ALPHABETS = [
    (("Жақсылықов", "Нұрлан"), ("JAQSYLYQOV", "NŪRLAN")),  # Kazakh 2021
    (("Жақсылықов", "Нұрлан"), ("ZHAKSYLYKOV", "NURLAN")),  # ICAO
    (("Шәріпов", "Ерғали"), ("ŞÄRİPOV", "ERĞALİ")),  # Kazakh 2021
    (("Шәріпов", "Ерғали"), ("SHARIPOV", "YERGALI")),  # BGN
    (("Әбдіғаппаров", "Дәулет"), ("ÁBDIǴAPPAROV", "DÁÝLET")),  # Kazakh 2018
    (("Өвезов", "Чарыяр"), ("ÖWEZOW", "ÇARYÝAR")),  # Turkmen
    (("Ягмыров", "Довлетгелди"), ("ÝAGMYROW", "DÖWLETGELDI")),  # Turkmen
    (("Жумаев", "Мәхри"), ("JUMAÝEWA", "MÄHRI")),  # Turkmen, feminine form
    (("Ғуломов", "Ўткир"), ("GʻULOMOV", "OʻTKIR")),  # Uzbek Latin
    (("Ғуломов", "Ўткир"), ("GULOMOV", "UTKIR")),  # Russian habit
    (("Холматов", "Шерзод"), ("XOLMATOV", "SHERZOD")),
    (("Рахмонзода", "Фируз"), ("RAHMONZODA", "FIRUZ")),  # Tajik
]
# Š Ž Ş lose their accents in a machine-readable zone; letter pairs where a name's parts meet
_LOST_ACCENTS = [
    (("Шатанов", "Абдрахман"), ("SATANOW", "ABDRAHMAN")),  # Turkmen Ş, its accent lost
    (("Шатанов", "Абдрахман"), ("SATRNOW", "ABDRAHMAN")),  # ... and a slip on top
    (("Жерносек", "Максим"), ("ZERNOSNK", "MAKSIM")),  # ISO 9 Ž without accent, a slip
    (("Мухаметжанов", "Ахметхан"), ("MUXAMETZANOV", "AXMETXAN")),  # t+ž, t+x: not ц, ч
    (("Махмуджанов", "Ринат"), ("MAHMUDZANOV", "RINAT")),  # dž without its accent
    (("Бабицкий", "Анатолий"), ("BABICKIN", "ANATOLIJ")),  # GOST 16876 ck is цк, a slip
    (("Тимощенко", "Асхат"), ("TIMOCHTCHEMKO", "ASKHAT")),  # French chtch is щ, a slip
]
_SLIP_MAKES_A_DOUBLED_LETTER = [
    (("Қурбонов", "Фаридун"), ("KURBOOV", "FARIDUN")),  # n dropped between two o
    (("Ҷалолов", "Парвиз"), ("ZHALLOV", "PARVIZ")),  # o typed as the l beside it
    (("Семёнов", "Олег"), ("SEENOV", "OLEG")),  # m dropped between two e
]


@pytest.mark.parametrize(
    ("cyrillic", "latin"), [*_NATIONAL_ALPHABETS, *_LOST_ACCENTS, *_SLIP_MAKES_A_DOUBLED_LETTER]
)
def test_spellings_match_their_cyrillic_entry_by_rule(
    cyrillic: tuple[str, str], latin: tuple[str, str]
) -> None:
    matches = screen([_entry(*cyrillic)], event(*latin, date_of_birth="1990-05-12"))
    assert [m.entry_id for m in matches] == ["RED-T-1"]


def test_swapped_order_cyrillic_and_partial_date_together() -> None:
    matches = screen(
        [_entry("Холматов", "Алишер", dob="1985")],
        event("ALISHER", "XOLMATOV", date_of_birth="1985-03-02"),
    )
    assert [m.band for m in matches] == ["strong"]
    hows = {item.field: item.how for item in matches[0].evidence}
    assert hows["surname"] == "swapped_order"
    assert hows["date_of_birth"] == "partial_date"


def test_typo_in_a_transliterated_name_with_day_and_month_swapped() -> None:
    matches = screen(
        [_entry("Абдуллаев", "Бахтиёр", dob="1979-04-11")],
        event("ABDULAYEV", "BAKHTIYOR", date_of_birth="1979-11-04"),
    )
    assert [m.entry_id for m in matches] == ["RED-T-1"]


def test_turkic_particle_and_patronymic_on_one_side_only() -> None:
    matches = screen(
        [_entry("Токтогулов", "Айбек")],
        event("TOKTOGULOV", "AIBEK MARAT UULU", date_of_birth="1990-05-12"),
    )
    assert [m.band for m in matches] == ["strong"]


@pytest.mark.parametrize(
    ("surname", "given", "dob"),
    [
        ("YOQUBOV", "JAMSHID", "1990-05-12"),  # other given name
        ("ABDULLAYEV", "JASUR", "1990-05-12"),  # other surname
        ("YOQUBOV", "JASUR", "2001-07-30"),  # same name, born 11 years later
    ],
)
def test_other_people_do_not_alert(surname: str, given: str, dob: str) -> None:
    assert screen([_entry("Ёкубов", "Жасур")], event(surname, given, date_of_birth=dob)) == []


def test_feminine_form_of_a_listed_man_is_not_him() -> None:
    entry = _entry("Иванов", "Саша")
    assert screen([entry], event("IVANOVA", "SASHA", date_of_birth="1990-05-12", sex="F")) == []


def test_explanation_says_transliteration() -> None:
    [match] = screen(
        [_entry("Холматов", "Алишер")], event("KHOLMATOV", "ALISHER", date_of_birth="1990-05-12")
    )
    surname = next(item for item in match.evidence if item.field == "surname")
    assert (surname.event, surname.entry, surname.how) == (
        "KHOLMATOV",
        "Холматов",
        "transliteration",
    )
