"""The vocabulary's native lookup reaches exactly the words the Python rules accept.

The reference is not built the way the native code builds its pool: it asks the Python rules
about every word of the vocabulary, so a word the native buckets never look at fails the test.
"""

from __future__ import annotations

import random

import pytest

from services.matcher.domain.names import GIVEN, SURNAME, Token, tokenise
from services.matcher.domain.variants import groups as name_groups
from services.matcher.domain.vocabulary import Vocabulary, _near

_NAMES = [
    "Холматов", "KHOLMATOV", "XOLMATOV", "HOLMATOV", "Ёкубов", "YOQUBOV", "EKUBOV", "Иванова",
    "IVANOV", "IVANOVA", "Петровская", "PETROVSKI", "PETROVSKAYA", "ABDULLAEV", "ABDULAEV",
    "ABDULLAYEVA", "QOBULOV", "KABULOV", "KOBILOV", "NURSULTANOV", "NURSULTANULY", "TOKTOGULOV",
    "RAHIMOV", "RAKHIMOV", "RAXIMOV", "SHAMSIEV", "SHAMSIYEV", "ZHUMABAEV", "JUMABAYEV",
    "ÇARYÝEW", "CHARYYEV", "KURBANOV", "GURBANOW", "ALIEV", "ALIYEV", "ALIEVA", "BEKOV", "BAKOV",
    "BIKOV", "BEKIROV", "ALISHER", "ALISHIR", "JASUR", "ZHASUR", "DILNOZA", "ERBOL", "YERBOL",
    "ABSKAYA", "ABSKI", "KOVSKAYA", "KOVSKI", "IVAN", "IRAN", "OLGA", "ANNA", "SASHA",
    "KOEV", "KEOVA", "SASUI", "BEKA", "BAKE", "RUSLAN", "ROSLAN", "ANVAR", "ANVER",
]  # fmt: skip
_ONSETS = ["b", "d", "g", "k", "kh", "m", "n", "r", "s", "sh", "t", "z", "zh", "ch", "l", "v", ""]
_VOWELS = ["a", "e", "i", "o", "u", "y"]
_SUFFIXES = ["ov", "ova", "ev", "in", "ina", "skaya", "ski", "bekov", "aev", ""]


def _synthetic(rng: random.Random, count: int) -> list[str]:
    """Syllable names from a small alphabet: dense sound buckets, many near neighbours."""
    out = []
    for _ in range(count):
        syllables = rng.randint(1, 3)
        stem = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables))
        out.append((stem + rng.choice(_SUFFIXES)).upper())
    return out


def _tokens(names: list[str]) -> list[Token]:
    return [token for name in names for role in (SURNAME, GIVEN) for token in tokenise(name, role)]


def _reference(vocabulary: Vocabulary, token: Token) -> set[str]:
    """Every vocabulary word the Python rules accept for the token, by brute force: the edit
    rules (``_near``) over every name word, and the token's known-variant groups."""
    groups = set(name_groups().words(token.keys))
    return {word for word in vocabulary.words() if word in groups or _near(token, word)}


def _vocabulary(names: list[str]) -> Vocabulary:
    vocabulary = Vocabulary()
    for slot, token in enumerate(_tokens(names)):
        for key in _keys(token):
            vocabulary.add(key, slot)
    return vocabulary


def _keys(token: Token) -> set[str]:
    """The words an entry's token is indexed under (as ``index`` does)."""
    return {*token.keys, token.latin, *name_groups().words(token.keys)}


def test_reach_is_the_pool_words_the_rules_accept() -> None:
    rng = random.Random(5)
    names = _NAMES + _synthetic(rng, 400)
    vocabulary = _vocabulary(names)
    # ABBSKI: its reading abski (5 letters) reaches ABSKAYA, a feminine form outside every
    # neighbourhood, only through the sound bucket of its typed letters abbski (6 letters)
    tricky = [
        "KOEV",
        "KEOVA",
        "SASHA",
        "SASUI",
        "OLIM",
        "OLIMA",
        "ABBSKI",
        "KOVVSKI",
        "IVANNOV",
        "ALLIEV",
        "KHOLMATOVA",
        "IVANOVSKAYA",
        "BOKOV",
    ]
    probes = names[:60] + _synthetic(rng, 100) + tricky + [f"ABD{name}" for name in _NAMES[:20]]
    for token in _tokens(probes):
        assert vocabulary.reach(token) == _reference(vocabulary, token), token.raw


def test_reach_follows_words_that_go() -> None:
    rng = random.Random(7)
    names = _NAMES + _synthetic(rng, 250)
    vocabulary = _vocabulary(names)
    for slot, token in enumerate(_tokens(names)):
        if slot % 3 == 0:
            for key in _keys(token):
                vocabulary.discard(key, slot)
    for token in _tokens(names[:60] + _synthetic(rng, 60)):
        assert vocabulary.reach(token) == _reference(vocabulary, token), token.raw


def test_reach_follows_words_that_come_and_go_after_buckets_were_scanned() -> None:
    # the consonant and sound buckets are scanned as rows made on first use: a word that
    # comes into or leaves a bucket already scanned must be seen by the next lookup
    rng = random.Random(11)
    names = _NAMES + _synthetic(rng, 300)
    later = [*_synthetic(rng, 150), "ABSKAYA", "KOVSKAIA", "IVANOVA", "KHOLMATOVA"]
    vocabulary = _vocabulary(names)
    probes = _tokens(names[:80] + later[:40] + ["ABBSKI", "KOVVSKI", "IVANNOV", "ALLIEV"])
    for token in probes:
        vocabulary.reach(token)
    first_new_slot = len(_tokens(names))
    for slot, token in enumerate(_tokens(later), start=first_new_slot):
        for key in _keys(token):
            vocabulary.add(key, slot)
    for token in probes:
        assert vocabulary.reach(token) == _reference(vocabulary, token), token.raw
    for slot, token in enumerate(_tokens(names)):
        if slot % 2 == 0:
            for key in _keys(token):
                vocabulary.discard(key, slot)
    for token in probes:
        assert vocabulary.reach(token) == _reference(vocabulary, token), token.raw


def test_slots_are_the_postings_of_the_words_reached() -> None:
    rng = random.Random(13)
    names = _NAMES + _synthetic(rng, 300)
    vocabulary = _vocabulary(names)
    alisher = tokenise("ALISHER", GIVEN)[0].keys[0]
    for slot in range(10_000, 10_100):  # a common given name reaches many entries
        vocabulary.add(alisher, slot)
    for token in _tokens([*names[:80], "ALISHER"]):
        slots = list(vocabulary.slots(token))
        expected = {s for word in vocabulary.reach(token) for s in _postings(vocabulary, word)}
        assert slots == sorted(expected), token.raw  # sorted, no slot twice
        assert len(vocabulary.slots(token)) == len(expected)


def test_candidates_are_slots_two_tokens_reach_or_one_where_the_name_has_one() -> None:
    vocabulary = Vocabulary()
    for word, slots in {"ivan": range(0, 6000, 7), "petrov": (3, 70, 4998, 9)}.items():
        for slot in slots:
            vocabulary.add(word, slot)
    for slot in range(0, 6000, 5):
        vocabulary.add("olga", slot)
    for slot in (1, 9, 35, 36):
        vocabulary.add("sidorov", slot)
    given, surname, other, few = (
        vocabulary.reached(token)
        for name in ("IVAN", "PETROV", "OLGA", "SIDOROV")
        for token in tokenise(name, SURNAME)
    )
    assert vocabulary.candidates([given, surname]) == [70, 4998]  # few probe many
    assert vocabulary.candidates([surname, given]) == [70, 4998]
    assert vocabulary.candidates([given, other]) == list(range(0, 6000, 35))  # a merge
    assert vocabulary.candidates([given, surname, few]) == [9, 35, 70, 4998]
    assert vocabulary.candidates([given]) == []
    vocabulary.set_single(36, True)  # a one-token name: one token reaching it is enough
    vocabulary.set_single(10**6, False)  # never marked: nothing changes
    assert vocabulary.candidates([few]) == [36]
    assert vocabulary.candidates([few, surname]) == [9, 36]
    vocabulary.set_single(36, False)
    assert vocabulary.candidates([few]) == []


def test_a_reach_is_read_only_against_the_postings_it_was_made_from() -> None:
    vocabulary, other = Vocabulary(), Vocabulary()
    for each in (vocabulary, other):
        each.add("petrov", 3)
        each.add("ivan", 3)
    petrov, ivan = (vocabulary.reached(token) for token in tokenise("PETROV IVAN", SURNAME))
    assert vocabulary.candidates([petrov, ivan]) == [3]
    with pytest.raises(ValueError, match="another vocabulary"):
        other.candidates([petrov, ivan])
    vocabulary.add("ivan", 4)  # the sets above are stale now
    with pytest.raises(ValueError, match="before it changed"):
        vocabulary.candidates([petrov, ivan])
    fresh = [vocabulary.reached(token) for token in tokenise("PETROV IVAN", SURNAME)]
    assert vocabulary.candidates(fresh) == [3]


def _postings(vocabulary: Vocabulary, word: str) -> set[int]:
    return set(vocabulary.postings(word))
