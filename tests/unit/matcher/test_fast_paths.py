"""The engine's fast paths give the same answers as the plain ones they stand in for."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError
from rapidfuzz.distance import OSA

from schemas.codec import decode_alert, decode_event, encode
from services.matcher.domain import (
    Match,
    Screener,
    WatchlistIndex,
    entry_record,
    event_record,
    to_alert,
    to_alert_json,
)
from services.matcher.domain.names import GIVEN, SURNAME, Token, tokenise
from services.matcher.domain.records import timestamp_text
from services.matcher.domain.vocabulary import Vocabulary, _near
from tests.unit.matcher.helpers import event, person_entry, sltd_entry
from tests.unit.matcher.quality import read_lines, screener_of

_CREATED = dt.datetime(2026, 11, 22, 8, 16, 1, 250000, tzinfo=dt.UTC)

_SURNAMES = [
    "Холматов", "KHOLMATOV", "XOLMATOV", "HOLMATOV", "Ёкубов", "YOQUBOV", "EKUBOV", "Иванова",
    "IVANOV", "IVANOVA", "Петровская", "PETROVSKI", "ABDULLAEV", "ABDULAEV", "ABDULLAYEVA",
    "QOBULOV", "KABULOV", "NURSULTANOV", "NURSULTANULY", "TOKTOGULOV", "RAHIMOV", "RAKHIMOV",
    "RAXIMOV", "SHAMSIEV", "SHAMSIYEV", "ZHUMABAEV", "JUMABAYEV", "ÇARYÝEW", "CHARYYEV",
    "KURBANOV", "GURBANOW", "ALIEV", "ALIYEV", "ALIEVA", "BEKOV", "BAKOV", "BIKOV", "BEKIROV",
]  # fmt: skip
_GIVEN = ["ALISHER", "ALISHIR", "JASUR", "ZHASUR", "DILNOZA", "DILNOZA", "ERBOL", "YERBOL"]
# Short names (4-5 letters) whose partner is two edits away: reached only by scanning the
# consonant bucket, which no sound bucket covers below 6 letters.
_SHORT = ["KOEV", "KEOVA", "SASHA", "SASUI", "ABSKI", "ABSKAYA", "OLIM", "OLIMA", "BEKA", "BAKE"]


def _index(entries: list[dict[str, Any]]) -> WatchlistIndex:
    index = WatchlistIndex()
    for entry in entries:
        index.upsert(entry_record(entry))
    return index


def _matches() -> list[Match]:
    entries = [
        person_entry("RED-1", [{"surname": "Холматов", "given_names": "Алишер"}], sex="M"),
        person_entry(
            "YEL-1",
            [{"surname": "ИВАНОВА", "given_names": "ДАРЬЯ"}],
            list="yellow_notice",
            date_of_birth="2015-04-01",
            sex="F",
        ),
        {**sltd_entry("DOC-1", "AA1234567"), "dissemination": {"restricted_to": ["KAZ", "UZB"]}},
    ]
    screener = Screener(_index(entries))
    events = [
        event("KHOLMATOV", "ALISHER", sex="M"),
        event("IVANOVA", "DARYA", date_of_birth="2015-04", occurred_at="2026-11-22T13:15:30+05:00"),
        event(
            "ANYONE",
            None,
            occurred_at="2026-11-22T08:15:30.5+00:00",
            document={"number": "aa 123 4567", "issuing_state": "UZB", "type": "P"},
        ),
    ]
    found = [match for one in events for match in screener.screen(one)]
    assert {m.entry_id for m in found} == {"RED-1", "YEL-1", "DOC-1"}
    return found


def test_alert_json_is_the_encoded_alert_byte_for_byte() -> None:
    for match in _matches():
        line = to_alert_json(match, _CREATED)
        assert line == encode(to_alert(match, _CREATED))
        assert decode_alert(line).entry_id == match.entry_id


def test_alert_json_falls_back_to_the_model_for_what_it_cannot_vouch_for() -> None:
    match = _matches()[0]
    with pytest.raises(ValidationError):
        to_alert_json(_replace(match, action=None), _CREATED)
    with pytest.raises(ValidationError):
        to_alert_json(_replace(match, occurred_at="yesterday"), _CREATED)
    odd = _replace(match, score=0)  # an int: the model writes 0.0
    assert to_alert_json(odd, _CREATED) == encode(to_alert(odd, _CREATED))


def _replace(match: Match, **changes: Any) -> Match:
    fields = {name: getattr(match, name) for name in Match.__slots__}
    return Match(**{**fields, **changes})


def test_reach_accepts_exactly_what_the_rules_accept_among_close_words() -> None:
    # every vocabulary word is within two edits of some query here, so the native scan's
    # answer must be exactly the words the Python rules (_near) accept
    vocabulary = Vocabulary()
    for slot, name in enumerate(_SURNAMES + _GIVEN + _SHORT):
        for token in tokenise(name, SURNAME):
            for key in {*token.keys, token.latin}:
                vocabulary.add(key, slot)
    words = set(vocabulary.words())
    queries = [
        *_SURNAMES,
        *_GIVEN,
        *_SHORT,
        "KHOLMATOVA",
        "IVANOVSKAYA",
        "ABDULLAEVA",
        "QOBILOV",
        "BOKOV",
    ]
    for name in queries:
        for token in tokenise(name, SURNAME) + tokenise(name, GIVEN):
            reached = vocabulary.reach(token)
            assert reached <= {w for w in words if _near(token, w)}, name
            close = {w for w in words if _close(token, w)}
            assert {w for w in close if _near(token, w)} <= reached, name


def test_short_names_two_spelling_edits_apart_reach_each_other() -> None:
    vocabulary = Vocabulary()
    for slot, name in enumerate(_SHORT):
        for key in {*tokenise(name, SURNAME)[0].keys}:
            vocabulary.add(key, slot)
    for query, partner in [("KOEV", "KEOVA"), ("SASHA", "SASUI"), ("ABSKI", "ABSKAYA")]:
        for one, other in [(query, partner), (partner, query)]:
            token = tokenise(one, SURNAME)[0]
            readings = tokenise(other, SURNAME)[0].keys
            assert set(readings) & vocabulary.reach(token), (one, other)


def test_an_entry_two_spelling_edits_from_a_short_surname_alerts() -> None:
    entry = person_entry(
        "RED-KEOVA", [{"surname": "KEOVA", "given_names": "DILNOZA"}], date_of_birth="1990-02-03"
    )
    screener = Screener(_index([entry]))
    [match] = screener.screen(event("KOEV", "DILNOZA", date_of_birth="1990-02-03"))
    assert match.entry_id == "RED-KEOVA"


def _close(token: Token, word: str) -> bool:
    """One edit from the letters as typed, or two from a reading: the native scan's reach."""
    typed = OSA.distance(token.latin, word) <= 1
    return typed or any(OSA.distance(key, word) <= 2 for key in token.keys)


def test_words_come_and_go_with_their_slots() -> None:
    vocabulary = Vocabulary()
    (word,) = tokenise("KHOLMATOV", SURNAME)[0].keys
    vocabulary.add(word, 2)
    vocabulary.add(word, 1)
    vocabulary.add(word, 1)
    assert vocabulary.postings(word) == [1, 2]
    probe = tokenise("XOLMATOVA", SURNAME)[0]  # another standard, the feminine form
    assert set(vocabulary.slots(probe)) == {1, 2}
    vocabulary.discard(word, 1)
    assert vocabulary.postings(word) == [2]
    assert set(vocabulary.slots(probe)) == {2}
    vocabulary.discard(word, 7)  # not there: nothing changes
    vocabulary.discard(word, 2)
    assert len(vocabulary) == 0
    assert word not in vocabulary
    assert list(vocabulary.slots(probe)) == []
    vocabulary.add(word + "a", 3)  # the freed word id is used again
    assert vocabulary.words() == [word + "a"]
    assert set(vocabulary.slots(probe)) == {3}


def test_cached_lookups_follow_upserts_and_cancellations() -> None:
    index = _index([person_entry("RED-1", [{"surname": "KHOLMATOV", "given_names": "ALISHER"}])])
    screener = Screener(index)
    probe = event("XOLMATOV", "ALISHER")
    assert [m.entry_id for m in screener.screen(probe)] == ["RED-1"]
    index.upsert(
        entry_record(person_entry("RED-2", [{"surname": "HOLMATOV", "given_names": "ALISHIR"}]))
    )
    assert sorted(m.entry_id for m in screener.screen(probe)) == ["RED-1", "RED-2"]
    index.upsert(
        entry_record(
            person_entry(
                "RED-1", [{"surname": "KHOLMATOV", "given_names": "ALISHER"}], status="cancelled"
            )
        )
    )
    assert [m.entry_id for m in screener.screen(probe)] == ["RED-2"]


def test_an_entry_with_the_very_same_name_is_found_after_the_name_was_cached() -> None:
    name = [{"surname": "KHOLMATOV", "given_names": "ALISHER"}]
    index = _index([person_entry("RED-1", name)])
    screener = Screener(index)
    probe = event("XOLMATOV", "ALISHER")
    assert [m.entry_id for m in screener.screen(probe)] == ["RED-1"]
    index.upsert(entry_record(person_entry("RED-2", name)))  # no new vocabulary word
    assert sorted(m.entry_id for m in screener.screen(probe)) == ["RED-1", "RED-2"]
    index.remove("RED-1")
    index.upsert(entry_record(person_entry("RED-3", name)))  # takes RED-1's free slot
    assert sorted(m.entry_id for m in screener.screen(probe)) == ["RED-2", "RED-3"]


def test_sltd_records_are_flat_and_still_found_and_removed() -> None:
    index = _index([sltd_entry("DOC-1", "AA1234567"), sltd_entry("DOC-2", "AA1234567")])
    record = entry_record(sltd_entry("DOC-1", "AA1234567"))
    assert (record.document.number, record.document.issuing_state) == ("AA1234567", "UZB")  # type: ignore[union-attr]
    probe = event("X", "Y", document={"number": "АА 1234567", "issuing_state": "UZB"})
    assert sorted(m.entry_id for m in Screener(index).screen(probe)) == ["DOC-1", "DOC-2"]
    index.remove("DOC-2")
    assert [m.entry_id for m in Screener(index).screen(probe)] == ["DOC-1"]
    assert len(index) == 1


def test_a_number_listed_in_another_format_is_kept_as_listed() -> None:
    index = _index([sltd_entry("DOC-1", "aa 123-4567")])
    probe = event("X", "Y", document={"number": "AA1234567", "issuing_state": "UZB"})
    [match] = Screener(index).screen(probe)
    [number] = [item for item in match.evidence if item.field == "document_number"]
    assert (number.entry, number.how) == ("aa 123-4567", "same_number_other_format")


def test_event_record_of_a_model_equals_that_of_its_json() -> None:
    raw = event(
        "KHOLMATOV",
        "ALISHER",
        patronymic="RUSTAMOVICH",
        date_of_birth="1985-03",
        sex="M",
        nationality="UZB",
        document={"number": "FA 1234567", "issuing_state": "UZB", "type": "P"},
    )
    line = orjson.dumps(raw)
    from_model, from_json = event_record(decode_event(line)), event_record(orjson.loads(line))
    # the model's timestamp is written out only for a match: as the JSON path writes it
    assert timestamp_text(from_model.occurred_at) == from_json.occurred_at
    assert from_model._replace(occurred_at=from_json.occurred_at) == from_json


def test_screening_many_events_at_once_finds_what_one_by_one_finds(shared_data: Path) -> None:
    folder = shared_data / "screening-dev"
    records = [event_record(line) for line in read_lines(folder / "events.jsonl")]
    alone = screener_of(folder)
    one_by_one = [alone.screen(record) for record in records]
    together = screener_of(folder)
    many = [
        m
        for start in range(0, len(records), 97)
        for m in together.screen_many(records[start : start + 97])
    ]
    assert many == one_by_one
    assert sum(map(len, many)) > 1000  # the set has alerts to compare
