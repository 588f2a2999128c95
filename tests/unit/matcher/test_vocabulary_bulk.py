"""Filing people in one native call (``add_bulk``) gives the vocabulary ``add`` gives key by key:
the same words, postings, single marks, and the same words and slots reached by every token.

The people are the labelled set's watchlist and synthetic ones (dense sound buckets, many near
neighbours); the tokens are those of the labelled set's events and of the synthetic names.
"""

from __future__ import annotations

import random
from itertools import pairwise
from pathlib import Path

import pytest

from schemas.codec import decode_entry, decode_event
from services.matcher.docstore.codec import KEY_SEPARATOR
from services.matcher.domain import entry_record, event_record
from services.matcher.domain.index import name_tokens, person_keys
from services.matcher.domain.names import Token
from services.matcher.domain.records import NameForm, PersonRecord
from services.matcher.domain.vocabulary import Vocabulary
from tests.unit.matcher.helpers import person_entry

People = list[tuple[list[str], bool]]  # each person's sorted blocking keys, single

_ONSETS = ["b", "d", "k", "kh", "m", "n", "r", "s", "sh", "t", "zh", "l", "v", ""]
_VOWELS = ["a", "e", "i", "o", "u", "y"]
_SUFFIXES = ["ov", "ova", "ev", "ina", "skaya", "ski", "bekov", ""]


def _name(rng: random.Random) -> str:
    stem = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.randint(1, 3)))
    return (stem + rng.choice(_SUFFIXES)).upper()


def _synthetic_people(count: int) -> list[PersonRecord]:
    rng = random.Random(27)
    out = []
    for n in range(count):
        names = [{"surname": _name(rng), "given_names": _name(rng)}]
        if n % 9 == 0:
            names = [{"surname": _name(rng)}]  # a single token: marked single
        record = entry_record(person_entry(f"SYN-{n}", names))
        assert isinstance(record, PersonRecord)
        out.append(record)
    return out


@pytest.fixture(scope="module")
def people(shared_data: Path) -> People:
    lines = (shared_data / "screening-dev" / "watchlist.jsonl").read_bytes().splitlines()
    records = [entry_record(decode_entry(line)) for line in lines if line.strip()]
    persons = [r for r in records if isinstance(r, PersonRecord)]
    persons += _synthetic_people(2000)
    assert len(persons) > 5000
    out = []
    for person in persons:
        keys, single = person_keys(person)
        out.append((sorted(keys), single))
    return out


@pytest.fixture(scope="module")
def tokens(shared_data: Path) -> list[Token]:
    lines = (shared_data / "screening-dev" / "events.jsonl").read_bytes().splitlines()
    events = [event_record(decode_event(line)) for line in lines[:3000] if line.strip()]
    forms = [NameForm(e.surname, e.given_names, e.patronymic) for e in events]
    found = {t for form in forms for t in name_tokens(form)}
    rng = random.Random(7)
    found |= {t for _ in range(500) for t in name_tokens(NameForm(_name(rng), _name(rng), None))}
    return sorted(found, key=lambda t: (t.raw, t.role))


def _one_by_one(people: People, slots: list[int]) -> Vocabulary:
    vocabulary = Vocabulary()
    for (keys, single), slot in zip(people, slots, strict=True):
        if single:
            vocabulary.set_single(slot, True)
        for key in keys:
            vocabulary.add(key, slot)
    return vocabulary


def _postings(filed: list[tuple[list[str], int]]) -> dict[str, list[int]]:
    """Word -> its slots, sorted and unique, worked out in Python from (keys, slot) filed."""
    found: dict[str, set[int]] = {}
    for keys, slot in filed:
        for key in keys:
            found.setdefault(key, set()).add(slot)
    return {word: sorted(slots) for word, slots in found.items()}


def _assert_same(
    bulk: Vocabulary, one: Vocabulary, tokens: list[Token], postings: dict[str, list[int]]
) -> None:
    words = sorted(one.words())
    assert sorted(bulk.words()) == words == sorted(postings)
    assert all(one.postings(word) == postings[word] for word in words)
    assert len(bulk) == len(one) == len(words)
    assert all(bulk.postings(word) == one.postings(word) for word in words)
    reached = 0
    for token in tokens:
        assert bulk.reach(token) == one.reach(token), token.raw
        assert list(bulk.slots(token)) == list(one.slots(token)), token.raw
        reached += bool(one.reach(token))
    assert reached > len(tokens) // 2  # the tokens do reach the vocabulary
    for first, second in pairwise(tokens):
        pair = [one.reached(first), one.reached(second)]
        assert bulk.candidates([bulk.reached(first), bulk.reached(second)]) == one.candidates(pair)
        assert bulk.candidates([bulk.reached(first)]) == one.candidates(pair[:1])  # single marks


def test_bulk_filing_of_a_store_gives_the_vocabulary_of_key_by_key(
    people: People, tokens: list[Token]
) -> None:
    """As a restore files them: keys joined as the store keeps them, slots 0, 1, 2, ... in
    batches of uneven sizes."""
    slots = list(range(len(people)))
    one = _one_by_one(people, slots)
    bulk = Vocabulary()
    bounds = [0, 1, 8, 1000, 1001, len(people)]
    for start, end in pairwise(bounds):
        batch = people[start:end]
        for (_, single), slot in zip(batch, slots[start:end], strict=True):
            if single:
                bulk.set_single(slot, True)
        stored = [KEY_SEPARATOR.join(keys).encode() for keys, _ in batch]
        bulk.add_bulk(stored, slots[start:end])
    filed = [(keys, slot) for (keys, _), slot in zip(people, slots, strict=True)]
    _assert_same(bulk, one, tokens, _postings(filed))


def test_bulk_filing_in_any_order_over_freed_words_gives_the_same_vocabulary(
    people: People, tokens: list[Token]
) -> None:
    """Slots out of order and repeated (a person filed twice), keys as strings, into a
    vocabulary whose discarded words left ids to reuse."""
    rng = random.Random(3)
    slots = [rng.randrange(len(people) // 2) for _ in people]
    one, bulk = Vocabulary(), Vocabulary()
    for vocabulary in (one, bulk):
        for slot, (keys, _) in enumerate(people[:300]):
            for key in keys:
                vocabulary.add(key, slot)
        for slot, (keys, _) in enumerate(people[:300:2]):
            for key in keys:
                vocabulary.discard(key, slot * 2)
    for (keys, single), slot in zip(people, slots, strict=True):
        for key in keys:
            one.add(key, slot)
        if single:
            one.set_single(slot, True)
            bulk.set_single(slot, True)
    bulk.add_bulk([tuple(keys) for keys, _ in people], slots)
    kept = [(keys, slot) for slot, (keys, _) in enumerate(people[:300]) if slot % 2]
    filed = kept + [(keys, slot) for (keys, _), slot in zip(people, slots, strict=True)]
    _assert_same(bulk, one, tokens, _postings(filed))


def test_bad_input_is_refused_and_what_was_filed_stays_found() -> None:
    vocabulary = Vocabulary()
    with pytest.raises(ValueError, match="fewer keys than slots"):
        vocabulary.add_bulk([("AAA",)], [0, 1])
    with pytest.raises(ValueError, match="more keys than slots"):
        vocabulary.add_bulk([("BBB",), ("CCC",)], [2])
    with pytest.raises(TypeError, match="not one key"):
        vocabulary.add_bulk(["DDD"], [3])
    with pytest.raises(TypeError):
        vocabulary.add_bulk([("EEE", 5)], [4])  # type: ignore[list-item]
    assert sorted(vocabulary.words()) == ["AAA", "BBB", "EEE"]
    assert [vocabulary.postings(w) for w in ("AAA", "BBB", "EEE")] == [[0], [2], [4]]
