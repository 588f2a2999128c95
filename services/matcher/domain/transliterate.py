"""Names in any script -> canonical Latin "skeleton" keys, by rule.

Two spellings of one name (Холматов, KHOLMATOV, XOLMATOV, HOLMATOV; Ёкубов, YOQUBOV, EKUBOV)
reduce to the same skeleton because each step removes a difference that transliteration
standards (ICAO 9303, MVD, BGN/PCGN, GOST 52535, ISO 9) and national Latin alphabets (Uzbek,
Kazakh 2018/2021, Turkmen, Azerbaijani) make, never a difference between names:

1. Cyrillic (Russian, Kazakh, Uzbek, Tajik, Kyrgyz, Turkmen, Ukrainian letters) -> Latin.
2. Latin letters with diacritics -> their plain Latin spelling (ş -> sh, ž -> zh, ǵ -> g ...).
3. Consonant digraphs collapse to one symbol each: sh/sch/shch/chtch -> S, ch/ts/tc/c -> C,
   zh/dzh/dj/j -> J, kh/x/h -> H, q -> k, w -> v, ng -> n.
4. Glides and vowels: y -> i, then yo/io -> e, ye/ie -> e, doubled letters once.
5. S and J end as s and z: machine-readable zones and typists drop the accent of Š, Ž, Ş
   (ŞATANOW is read SATANOW), so the letters with and without it must be one letter, or a
   slip on top of the lost accent would be a second edit.

The letters j and x are ambiguous (j is Ж in Uzbek and Turkmen but Й in GOST 16876 and
German; x is Х in Uzbek but KS in "Alexander"), and so are letter pairs where a name's parts
meet (Akhmet-khan written AXMETXAN, Mukhamet-zhan written MUXAMETZAN once its Ž lost the
accent), so a token yields several skeletons. A token typed with a doubled letter also keeps
a skeleton with it: a slip can make the pair (Kurbonov typed KURBOOV), and collapsing it
would turn one slip into two edits.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from relay_vocabulary import Speller

from services.matcher.domain.name_rules import FEMININE, MIN_STEM_LENGTH, SOUND_CLASSES, VOWELS

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
    # Kazakh, Kyrgyz, Uzbek, Tajik, Turkmen, Bashkir/Tatar, Ukrainian, Belarusian letters
    "ә": "a", "ғ": "g", "қ": "q", "ң": "ng", "ө": "o", "ұ": "u", "ү": "u", "һ": "h",
    "і": "i", "ў": "o", "ҳ": "h", "ҷ": "j", "ӣ": "i", "ӯ": "u", "җ": "zh", "ӊ": "ng",
    "ї": "yi", "є": "ye", "ґ": "g", "ҙ": "z", "ҫ": "s", "ӑ": "a", "ӗ": "e", "ҡ": "q",
    "ӧ": "o", "ӱ": "u", "ӓ": "a", "ӹ": "y",
}  # fmt: skip

# Latin letters whose plain spelling is more than dropping the accent.
_LATIN_SPECIAL = {
    "ş": "sh", "š": "sh", "ș": "sh", "ś": "sh", "ç": "ch", "č": "ch", "ć": "ch",
    "ž": "zh", "ź": "zh", "ż": "zh", "ı": "i", "ł": "l", "đ": "dj", "ə": "a", "ß": "ss",
    "ø": "o", "æ": "ae", "œ": "oe", "ŋ": "ng",
}  # fmt: skip

# One table for step 1, the special letters of step 2, and apostrophes (dropped): the tables'
# letters do not overlap, and no letter spells an apostrophe.
_TO_LATIN = str.maketrans(_CYRILLIC | _LATIN_SPECIAL | dict.fromkeys("'`ʻʼʹ‘’´ʽ"))
_NON_LETTERS = re.compile("[^a-z]")

# Order matters: longer digraphs first. Upper-case letters are skeleton symbols (S and J
# only until step 5 of the module's docstring).
_DIGRAPHS = (
    ("schtsch", "S"), ("chtch", "S"), ("shch", "S"), ("tsch", "C"), ("dsch", "J"), ("sch", "S"),
    ("dzh", "J"), ("tch", "C"), ("tsj", "C"), ("sz", "S"), ("cz", "C"),
    ("sj", "S"), ("zh", "J"), ("dj", "J"),
    ("sh", "S"), ("ch", "C"), ("ts", "C"), ("tc", "C"), ("tz", "C"), ("kh", "H"),
    ("x", "H"), ("gh", "g"), ("ph", "f"), ("ck", "k"), ("ng", "n"), ("h", "H"), ("q", "k"),
    ("w", "v"), ("c", "C"), ("j", "J"),
)  # fmt: skip
_GLIDES = (("io", "e"), ("ie", "e"))
# Each pattern present adds a reading: Central Asian vs German, French, Polish, Dutch and
# Baltic habits (Chadschijew, Polouchine, Moechina, Frolovs are all Russian names), ck as
# цк (Babicki: GOST 16876, Polish) and letter pairs where a name's parts meet (tx, tz, dz).
_SECOND_READINGS = (
    ("j", "y"), ("x", "ks"), ("sh", "skh"), ("sc", "shch"), ("ch", "kh"), ("ch", "sh"),
    ("oe", "u"), ("ou", "u"), ("w", "u"), ("rz", "zh"), ("gui", "gi"), ("gue", "ge"),
    ("ck", "tsk"), ("tx", "ch"), ("tz", "tzh"), ("dz", "dzh"),
)  # fmt: skip
# Word endings dropped or respelt, (letters before the ending at least, (ending, written as)):
# the first ending a word has, with enough letters before it, is the one. Baltic nominative
# endings (Frolovas, Frolovs) as a second reading; French ones (Polouchine, Ivanoff) in every
# reading.
_BALTIC_ENDINGS = (4, (("as", ""), ("s", "")))
_FRENCH_ENDINGS = (3, (("ine", "in"), ("off", "v"), ("ff", "v"), ("f", "v")))
_DOUBLED = re.compile(r"(.)\1+")
# The letter of a run: a C callable, where the template r"\1" runs Python code per match.
_ONCE = operator.methodcaller("group", 1)
_VOWELS = re.compile(f"[{VOWELS}]")
_CYRILLIC_RANGE = re.compile("[\u0400-\u04ff]")


def is_cyrillic(text: str) -> bool:
    return _CYRILLIC_RANGE.search(text) is not None


def to_latin(token: str) -> str:
    """Lower-case plain Latin letters (a-z) for a token in any supported script."""
    text = token.lower().translate(_TO_LATIN)
    if text.isascii() and text.isalpha():  # plain letters already: nothing to decompose
        return text
    return _NON_LETTERS.sub("", unicodedata.normalize("NFKD", text))


@dataclass(frozen=True, slots=True)
class SpellingRules:
    """Steps 3 to 5 of the module's docstring as tables, for the native speller
    (``relay_vocabulary.Speller``), which keeps no copy of its own."""

    second_readings: tuple[tuple[str, str], ...]
    baltic_endings: tuple[int, tuple[tuple[str, str], ...]]
    french_endings: tuple[int, tuple[tuple[str, str], ...]]
    digraphs: tuple[tuple[str, str], ...]
    glides: tuple[tuple[str, str], ...]
    final: tuple[tuple[str, str], ...]  # step 5: S and J as s and z


SPELLING = SpellingRules(
    second_readings=_SECOND_READINGS,
    baltic_endings=_BALTIC_ENDINGS,
    french_endings=_FRENCH_ENDINGS,
    digraphs=(*_DIGRAPHS, ("y", "i")),
    glides=_GLIDES,
    final=(("S", "s"), ("J", "z")),
)
_SPELLER = Speller(SPELLING)


def skeletons(token: str) -> tuple[str, ...]:
    """Every skeleton of one name token; the first is the most likely reading.

    ``j`` is read as Ж (Central Asian alphabets) and as Й (GOST 16876, German); ``x`` as Х
    (Uzbek) and as KS; ``sh`` as Ш and as С+Х (Askhat written Ashat); ``sc`` as Щ (šč with
    its accents lost).
    """
    return spelt(token)[1]


@lru_cache(maxsize=200_000)
def spelt(token: str) -> tuple[str, tuple[str, ...]]:
    """(``to_latin``, ``skeletons``) of a token: a name's tokens need both, worked out once.
    The readings and their skeletons are native code: the rules' tables come from here."""
    latin = to_latin(token)
    return latin, (tuple(_SPELLER.skeletons(latin)) if latin else ())


_SOUND_CLASSES = str.maketrans(
    {letter: symbol for symbol, letters in SOUND_CLASSES for letter in letters}
    | dict.fromkeys(VOWELS)
)


@lru_cache(maxsize=200_000)
def sound_key(skeleton: str) -> str:
    """Consonants by sound class (``SOUND_CLASSES``), runs collapsed: Abrosimov ~ Ovrosimov."""
    return _DOUBLED.sub(_ONCE, skeleton.translate(_SOUND_CLASSES))


@lru_cache(maxsize=200_000)
def consonants(skeleton: str) -> str:
    """The skeleton without vowels: Qobulov and Kabulov share ``kblv``."""
    return _VOWELS.sub("", skeleton)


@lru_cache(maxsize=400_000)
def masculine(skeleton: str) -> str | None:
    """The masculine form of a feminine Slavic surname skeleton (``ivanova`` -> ``ivanov``)."""
    for suffix, replacement in FEMININE:
        if skeleton.endswith(suffix) and len(skeleton) >= len(suffix) + MIN_STEM_LENGTH:
            return skeleton[: -len(suffix)] + replacement
    return None
