"""The native speller (``relay_vocabulary.Speller``) gives the skeletons the Python reading
of the rules gives (``spelling_reference``), on the names of the labelled set and on words
made of the letters the rules rewrite; it applies the tables Python passes in, and refuses
what is not a-z."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from relay_vocabulary import Speller

from services.matcher.domain.transliterate import SPELLING, skeletons, to_latin
from tests.unit.matcher import spelling_reference

# every letter a rule looks at, vowels and a few others
_LETTERS = "aeiouyschtzkhxjwqgdfnrlbpvm"


def _names(folder: Path) -> set[str]:
    words: set[str] = set()
    for name in ("watchlist.jsonl", "events.jsonl"):
        for line in (folder / name).read_bytes().splitlines():
            for text in re.findall(rb'"(?:surname|given_names|patronymic)":\s*"([^"]*)"', line):
                words.update(re.split(r"[\s,\-]+", orjson.loads(b'"' + text + b'"')))
    return {latin for latin in map(to_latin, words) if latin}


def _made_words(count: int) -> set[str]:
    rng = random.Random(2026)
    return {"".join(rng.choice(_LETTERS) for _ in range(rng.randint(1, 14))) for _ in range(count)}


def test_native_skeletons_are_the_reference_ones(shared_data: Path) -> None:
    speller = Speller(SPELLING)
    names = _names(shared_data / "screening-dev")
    assert len(names) > 3_000
    words = sorted(names | _made_words(60_000))
    differ = [
        word
        for word in words
        if tuple(speller.skeletons(word)) != spelling_reference.skeletons(word)
    ]
    assert differ == []


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("kholmatov", ("Holmatov",)),
        ("frolovas", ("frolovas", "frolov")),
        ("polouchine", ("polouCin", "polouHin", "polousin", "poluCin", "poluHin", "polusin")),
        ("kurboov", ("kurbov", "kurboov")),
        ("chadschijew", None),  # twenty readings: German, j, ch and w read two ways each
    ],
)
def test_known_words(word: str, expected: tuple[str, ...] | None) -> None:
    found = tuple(Speller(SPELLING).skeletons(word))
    assert found == spelling_reference.skeletons(word)
    assert found == skeletons(word)
    assert found == expected if expected is not None else len(found) == 20


def test_the_tables_come_from_python() -> None:
    # without the kh digraph, kh stays two letters (h is still H)
    digraphs = tuple(pair for pair in SPELLING.digraphs if pair[0] != "kh")
    assert Speller(replace(SPELLING, digraphs=digraphs)).skeletons("kholmatov") == ["kHolmatov"]
    no_baltic = replace(SPELLING, baltic_endings=(4, ()))
    assert len(Speller(no_baltic).skeletons("frolovas")) < len(skeletons("frolovas"))


@pytest.mark.parametrize("latin", ["holmatöv", "Холматов"])
def test_only_plain_latin_letters(latin: str) -> None:
    with pytest.raises(ValueError, match="ASCII"):
        Speller(SPELLING).skeletons(latin)


def test_a_rule_replaces_some_letters() -> None:
    with pytest.raises(ValueError, match="replaces some letters"):
        Speller(replace(SPELLING, glides=(("", "e"),)))
