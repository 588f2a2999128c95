"""Rules against abuse of intake: batches pay the rate limit in full, no control character in
any text of an event, and event times within bounds (1990-01-01 to a day after receipt)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from schemas.codec import decode_event
from schemas.event import Event
from services.ingest.domain.agencies import Agency, hash_key
from services.ingest.domain.intake import Prepared, Rejection, accept, validate
from services.ingest.runtime import Limiter
from services.ingest.settings import IngestSettings
from tests.unit.schemas.examples import EVENT

NOW = dt.datetime(2026, 11, 22, 8, 16, tzinfo=dt.UTC)
KAZ = Agency(id="KAZ-BORDER", countries=frozenset({"KAZ"}), key_sha256=[hash_key("k-kaz")])


def _settings(**extra: Any) -> IngestSettings:
    return IngestSettings(kafka_bootstrap="127.0.0.1:1", **extra)


def test_a_batch_is_charged_every_event() -> None:
    limiter = Limiter(_settings(ingest_rate_per_s=0.01, ingest_rate_burst=5))
    assert limiter.burst(KAZ) == 5
    assert limiter.take(KAZ, 5) == 0
    assert limiter.take(KAZ, 1) > 0
    assert limiter.take(KAZ, 5) > 0  # the five tokens are gone, whatever the batch size


def test_a_batch_larger_than_the_burst_never_passes() -> None:
    limiter = Limiter(_settings(ingest_rate_per_s=0.01, ingest_rate_burst=2000))
    small = KAZ.model_copy(update={"burst": 5.5, "rate_per_s": 1000.0})
    assert limiter.burst(small) == 5  # whole events: 5.5 tokens never pay for six
    assert limiter.take(small, 6) > 0  # a full bucket, and still not enough
    assert limiter.take(small, 5) == 0


def _with(path: str, value: str) -> dict[str, Any]:
    """EVENT with the text at ``path`` ("location.code", "document.mrz[1]") set to ``value``."""
    raw = copy.deepcopy(EVENT)
    *parents, last = path.replace("[", ".").replace("]", "").split(".")
    target: Any = raw
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return raw


TEXT_FIELDS = {
    "location.code": "KZ-ALA-AIR",
    "location.name": "Almaty",
    "reported_by": "KAZ-BORDER",
    "document.number": "FA 1234567",
    "document.mrz[1]": EVENT["document"]["mrz"][1],
}


@pytest.mark.parametrize("path", sorted(TEXT_FIELDS))
@pytest.mark.parametrize("char", ["\x00", "\t", "\n", "\x1b", "\x7f", "\x85", "\x9f"])
def test_a_control_character_in_any_text_is_refused_naming_the_field(path: str, char: str) -> None:
    text = TEXT_FIELDS[path]
    result = validate(_with(path, text[:2] + char + text[3:]))
    assert isinstance(result, Rejection)
    assert result.status == 422
    [error] = result.errors
    assert (error["field"], error["rule"]) == (path, "control_char")
    assert f"U+{ord(char):04X}" in error["message"]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("location.code", "KZ-ALA\u00a01"),  # a no-break space is a space, not a control
        ("location.name", "Алматы / Almaty 東京 ١٢"),
        ("document.number", "FA/123.45-67"),
        ("document.mrz[1]", EVENT["document"]["mrz"][1].replace("<", "«", 1)),  # flagged, kept
    ],
)
def test_printable_text_of_any_script_still_passes(path: str, value: str) -> None:
    assert isinstance(validate(_with(path, value)), Event)


def test_a_control_character_in_a_name_keeps_the_name_rule() -> None:
    result = validate(_with("traveller.surname", "KHOL\x00MATOV"))
    assert isinstance(result, Rejection)
    assert [e["rule"] for e in result.errors] == ["name_control_char"]


def _at(occurred_at: str) -> dict[str, Any]:
    return copy.deepcopy(EVENT) | {"occurred_at": occurred_at}


@pytest.mark.parametrize(
    ("occurred_at", "rule"),
    [
        ("2999-01-01T00:00:00Z", "occurred_in_future"),
        ("2026-11-23T08:16:01Z", "occurred_in_future"),  # a day and a second after receipt
        ("2026-11-23T10:16:01+02:00", "occurred_in_future"),  # the same instant
        ("0001-01-01T00:00:00Z", "occurred_too_early"),
        ("1989-12-31T23:59:59Z", "occurred_too_early"),
        ("1990-01-01T04:59:59+05:00", "occurred_too_early"),  # 1989 in UTC
    ],
)
def test_event_times_out_of_bounds_are_refused_naming_occurred_at(
    occurred_at: str, rule: str
) -> None:
    result = accept(_at(occurred_at), KAZ, NOW)
    assert isinstance(result, Rejection)
    assert result.status == 422
    assert [(e["field"], e["rule"]) for e in result.errors] == [("occurred_at", rule)]


@pytest.mark.parametrize(
    "occurred_at",
    [
        "2026-11-23T08:16:00Z",
        "1990-01-01T00:00:00Z",
        "1990-01-01T00:00:00-05:00",
        "2026-11-22T08:15:30Z",
    ],
)
def test_event_times_at_the_bounds_are_accepted(occurred_at: str) -> None:
    assert isinstance(accept(_at(occurred_at), KAZ, NOW), Prepared)


def test_the_future_bound_is_named_together_with_other_faults() -> None:
    raw = _at("2999-01-01T00:00:00Z") | {"country": "XX"}
    raw["location"]["code"] = "KZ\x00"
    result = accept(raw, KAZ, NOW)
    assert isinstance(result, Rejection)
    assert {"occurred_at", "country", "location.code"} == {e["field"] for e in result.errors}


def test_without_a_time_of_receipt_only_the_fixed_bound_applies() -> None:
    """Consumers validate stored events with no clock: the future bound is intake's."""
    assert isinstance(validate(_at("2999-01-01T00:00:00Z")), Event)
    assert isinstance(validate(_at("0001-01-01T00:00:00Z")), Rejection)
    with pytest.raises(ValidationError, match="occurred_too_early"):
        decode_event(orjson.dumps(_at("1985-06-01T00:00:00Z")))
