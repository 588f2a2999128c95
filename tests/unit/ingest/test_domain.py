"""Ingest's pure logic: agencies, rate limits, recent ids, partition keys, intake."""

from __future__ import annotations

import copy
import datetime as dt
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.event import Event
from services.ingest.domain.agencies import (
    Agency,
    AgencyDirectory,
    Denial,
    authorise,
    hash_key,
    new_key,
)
from services.ingest.domain.intake import Prepared, Rejection, accept, validate
from services.ingest.domain.keys import topic_for, traveller_key
from services.ingest.domain.ratelimit import TokenBucket, retry_after_header
from services.ingest.domain.recent import RecentIds
from services.ingest.synthetic import make_event
from tests.unit.schemas.examples import EVENT

NOW = dt.datetime(2026, 11, 22, 8, 16, tzinfo=dt.UTC)
KAZ = Agency(id="KAZ-BORDER", countries=frozenset({"KAZ"}), key_sha256=[hash_key("k-kaz")])


def test_directory_authenticates_by_hash_only() -> None:
    directory = AgencyDirectory(agencies=[KAZ])
    assert directory.authenticate("k-kaz") == KAZ
    assert directory.authenticate("k-other") is None
    assert directory.authenticate("") is None
    assert directory.authenticate(None) is None
    assert directory.authenticate(hash_key("k-kaz")) is None  # the hash is not the key
    assert directory.by_id("KAZ-BORDER") == KAZ


def test_directory_refuses_duplicate_agencies_and_shared_keys() -> None:
    twin = KAZ.model_copy(update={"id": "KAZ-OTHER"})
    with pytest.raises(ValueError, match="key hash"):
        AgencyDirectory(agencies=[KAZ, twin])
    with pytest.raises(ValueError, match="twice"):
        AgencyDirectory(agencies=[KAZ, KAZ.model_copy(update={"key_sha256": [hash_key("x")]})])


def test_new_keys_are_long_and_distinct() -> None:
    keys = {new_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(len(k) >= 40 for k in keys)


def test_authorise_country_and_reported_by() -> None:
    assert authorise(KAZ, "KAZ", "KAZ-BORDER") is None
    assert authorise(KAZ, "UZB", "KAZ-BORDER") is Denial.COUNTRY
    assert authorise(KAZ, "KAZ", "UZB-BORDER") is Denial.REPORTED_BY


def test_token_bucket_refills_and_says_how_long_to_wait() -> None:
    bucket = TokenBucket.full(rate=10, burst=20, now=0.0)
    assert bucket.take(20, 0.0) == 0
    wait = bucket.take(5, 0.0)
    assert wait == pytest.approx(0.5)
    assert bucket.take(5, 0.5) == 0  # refilled meanwhile
    assert bucket.take(1, 0.5) > 0
    assert bucket.take(100, 100.0) > 0  # larger than the bucket: never (the handler refuses it)
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(2.1) == "3"


@given(st.lists(st.tuples(st.integers(1, 30), st.floats(0, 5)), max_size=50))
def test_token_bucket_never_grants_more_than_rate_allows(takes: list[tuple[int, float]]) -> None:
    bucket = TokenBucket.full(rate=10, burst=30, now=0.0)
    now, granted = 0.0, 0
    for count, step in takes:
        now += step
        if bucket.take(count, now) == 0:
            granted += count
    assert granted <= 30 + 10 * now + 1e-6


def test_recent_ids_are_bounded_lru() -> None:
    recent = RecentIds(2)
    for event_id in ("a", "b", "a", "c"):
        recent.add(event_id)
    assert "a" in recent
    assert "c" in recent
    assert "b" not in recent
    assert len(recent) == 2
    nothing = RecentIds(0)
    nothing.add("a")
    assert "a" not in nothing


def _event(**changes: object) -> Event:
    raw = copy.deepcopy(EVENT)
    raw.update(changes)
    result = validate(raw)
    assert isinstance(result, Event)
    return result


def test_traveller_key_follows_the_document_then_name_and_birth() -> None:
    base = _event()
    spaced = copy.deepcopy(EVENT)
    spaced["document"]["number"] = "fa 123-4567"
    spaced["traveller"]["surname"] = "Someone Else"
    assert traveller_key(_event(document=spaced["document"])) == traveller_key(base)
    no_doc = {k: v for k, v in EVENT.items() if k != "document"}
    a = validate(no_doc)
    b = validate({**no_doc, "traveller": {**EVENT["traveller"], "surname": "kholmatov"}})
    c = validate({**no_doc, "traveller": {**EVENT["traveller"], "date_of_birth": "1985"}})
    assert isinstance(a, Event)
    assert isinstance(b, Event)
    assert isinstance(c, Event)
    assert traveller_key(a) == traveller_key(b) != traveller_key(c)
    assert b"FA1234567" not in traveller_key(base)
    assert topic_for(base) == "events.border_crossing"


def test_validate_names_every_field_and_refuses_ingest_fields() -> None:
    raw = copy.deepcopy(EVENT) | {"received_at": "2026-01-01T00:00:00Z", "color": "red"}
    raw["traveller"]["date_of_birth"] = "1985-13"
    result = validate(raw)
    assert isinstance(result, Rejection)
    assert result.status == 422
    assert {"received_at", "color", "traveller.date_of_birth"} <= {
        e["field"] for e in result.errors
    }
    assert validate([1, 2]) == Rejection(
        422, [{"field": "(message)", "rule": "object_type", "message": "an event is a JSON object"}]
    )


_values = st.recursive(
    st.none() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["a", "surname", "mrz", "number", "code"]), inner, max_size=3
        )
    ),
    max_leaves=10,
)


def test_accept_stamps_received_at_and_encodes() -> None:
    result = accept(copy.deepcopy(EVENT), KAZ, NOW)
    assert isinstance(result, Prepared)
    assert result.event.received_at == NOW
    assert result.event.mrz_valid is True
    assert result.event.flags == []
    assert b'"received_at":"2026-11-22T08:16:00Z"' in result.value
    forbidden = accept(copy.deepcopy(EVENT) | {"country": "UZB"}, KAZ, NOW)
    assert isinstance(forbidden, Rejection)
    assert forbidden.status == 403


@given(st.integers(0, 43), st.sampled_from(["²", "+", " ", "\u00a0", "١", "a", "é"]))
def test_an_mrz_with_odd_characters_is_accepted_and_flagged(at: int, char: str) -> None:
    """What an agency puts in an MRZ line never breaks intake: the event is kept, MRZ flagged.

    (Control characters are refused in every text field, MRZ lines too: test_security_rules.)
    """
    raw = copy.deepcopy(EVENT)
    line = raw["document"]["mrz"][1]
    raw["document"]["mrz"][1] = line[:at] + char + line[at + 1 :]
    result = accept(raw, KAZ, NOW)
    assert isinstance(result, Prepared)
    assert result.event.mrz_valid is False
    assert [flag.field for flag in result.event.flags] == ["document.mrz"]


def test_synthetic_events_are_accepted_with_valid_mrz() -> None:
    rng = random.Random(3)
    received = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)  # synthetic events occur in November 2026
    for _ in range(200):
        result = accept(make_event(rng), KAZ, received)
        assert isinstance(result, Prepared)
        assert result.event.flags == []
        if result.event.document is not None:
            assert result.event.mrz_valid is True
