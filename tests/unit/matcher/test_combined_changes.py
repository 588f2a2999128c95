"""Changes combined on one name: another standard, accents lost, a slip, the order swapped.

The labelled set shows each change alone; the held-out evaluation of issue 5 combines them.
These events are made by rule from the Cyrillic names of the screening-dev watchlist (fixed
seed): written by one of twelve standards, often with the accents a machine-readable zone
drops (Ş -> S, Ž -> Z), then changed once more. They are held to the issue's floors: recall
0.98 overall and 0.95 for each change, at most 1% false alerts for other people.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import iuliia  # type: ignore[import-untyped]
import pytest

from services.demo.names import Standard, mrz_name, write
from services.matcher.domain.transliterate import is_cyrillic
from tests.unit.matcher.helpers import event
from tests.unit.matcher.quality import Quality, read_lines, screener_of

_STANDARDS: tuple[Callable[[str], str], ...] = (
    *(partial(write, standard=s) for s in Standard if s is not Standard.CYRILLIC),
    *(schema.translate for schema in (iuliia.GOST_16876, iuliia.ISO_9_1954, iuliia.MVD_310_FR)),
    iuliia.SCIENTIFIC.translate,
)
_FORMS = 600
_NEGATIVE = ("other_given_name", "other_surname", "born_12_years_earlier")


@dataclass(frozen=True)
class Case:
    change: str
    event: dict[str, Any]
    entry_id: str | None  # None: nobody may alert


def _slip(rng: random.Random, word: str) -> str:
    """One slip of the keyboard inside a word of 6+ letters (else the word unchanged)."""
    if len(word) < 6:
        return word
    at = rng.randrange(1, len(word) - 1)
    letter = rng.choice("ABDEIKLMNORSTUV")
    return rng.choice(
        (
            word[:at] + word[at + 1 :],
            word[:at] + letter + word[at + 1 :],
            word[:at] + letter + word[at:],
            word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :],
        )
    )


def _cyrillic_names(folder: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    entries = read_lines(folder / "watchlist.jsonl")
    return [
        (entry, form)
        for entry in entries
        if "person" in entry
        for form in entry["person"]["names"]
        if form.get("given_names") and is_cyrillic(form["surname"])
    ]


def _writer(rng: random.Random) -> Callable[[str | None], str | None]:
    """One standard for the whole name; the accents dropped half of the time."""
    standard = rng.choice(_STANDARDS)

    def written(text: str | None) -> str | None:
        latin = standard(text) if text else text
        return mrz_name(latin).replace("<", " ") if latin and rng.random() < 0.5 else latin

    return written


def _cases(
    rng: random.Random, names: list[tuple[dict[str, Any], dict[str, Any]]]
) -> Iterator[Case]:
    for entry, form in rng.sample(names, _FORMS):
        yield from _changes(rng, entry, form, other=rng.choice(names)[1])


def _changes(
    rng: random.Random, entry: dict[str, Any], form: dict[str, Any], other: dict[str, Any]
) -> Iterator[Case]:
    written = _writer(rng)
    surname = written(form["surname"]) or ""
    given = written(form["given_names"]) or ""
    patronymic = written(form.get("patronymic"))
    person = entry["person"]
    traveller = {
        "date_of_birth": person.get("date_of_birth"),
        "nationality": (person.get("nationalities") or [None])[0],
        "sex": person.get("sex"),
    }

    def case(change: str, names: tuple[str, str | None, str | None]) -> Case:
        found = entry["entry_id"] if change not in _NEGATIVE else None
        return Case(change, event(names[0], names[1], patronymic=names[2], **traveller), found)

    yield case("standard", (surname, given, patronymic))
    yield case("slip_in_surname", (_slip(rng, surname), given, patronymic))
    yield case("slip_in_given_name", (surname, _slip(rng, given), patronymic))
    yield case("swapped_with_a_slip", (given, _slip(rng, surname), None))
    yield case("slip_and_no_patronymic", (_slip(rng, surname), given, None))
    if other["given_names"].casefold() != form["given_names"].casefold():
        yield case("other_given_name", (surname, written(other["given_names"]), None))
    if other["surname"].casefold() != form["surname"].casefold():
        yield case("other_surname", (written(other["surname"]) or "", given, None))
    born = traveller["date_of_birth"]
    if born and len(born) == 10:
        traveller["date_of_birth"] = f"{int(born[:4]) - 12}{born[4:]}"
        yield case("born_12_years_earlier", (surname, given, patronymic))


@pytest.fixture(scope="module")
def quality(shared_data: Path) -> Quality:
    folder = shared_data / "screening-dev"
    screener = screener_of(folder)
    quality = Quality()
    for case in _cases(random.Random(20261201), _cyrillic_names(folder)):
        expected = {case.entry_id} if case.entry_id else set()
        quality.count(case.change, expected, {m.entry_id for m in screener.screen(case.event)})
    return quality


def test_recall_overall_and_for_each_change(quality: Quality) -> None:
    assert quality.recall >= 0.98, quality.recall
    low = {c: quality.category_recall(c) for c in quality.positive}
    assert not {c: r for c, r in low.items() if r < 0.95}


def test_other_people_rarely_alert(quality: Quality) -> None:
    noisy = {c: quality.false_alert_rate(c) for c in _NEGATIVE}
    assert not {c: rate for c, rate in noisy.items() if rate > 0.01}
    assert all(quality.events[c] >= 400 for c in _NEGATIVE), quality.events
