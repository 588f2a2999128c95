"""The analysis service's thin parts: settings to thresholds, the copier's hit record, one
history record through the patterns, and lead ids that depend on the key."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from pydantic import ValidationError

from schemas.alert import Alert
from schemas.codec import encode
from schemas.lead import Pattern
from schemas.listed_hit import ListedHit
from services.analyst.domain import Analyser, Params
from services.analyst.errors import UnreadableRecord
from services.analyst.handlers import EVENT_HEADER, HIT_HEADER, Analysis, hit_value
from services.analyst.metrics import AnalystMetrics
from services.analyst.settings import AnalystSettings
from tests.unit.analyst.builders import KEY, P, event, party

EVENT_ID = "0b7c2a6e-5d1f-4e8a-9c3b-7f2d1e6a4b90"
STRONG_KEY = "a-test-key-for-the-analyst-Zq8Wm3Lp5Rt7"


def settings(**extra: Any) -> AnalystSettings:
    return AnalystSettings(analyst_pseudonym_key=STRONG_KEY, **extra)


def test_every_threshold_is_a_setting_and_the_defaults_are_the_domains() -> None:
    assert settings().params() == Params()
    tuned = settings(
        analyst_serial_escort_min_crossings=4, analyst_surge_min_statistic=8.0,
        analyst_retention_days=30, analyst_identity_documents_window_days=45,
    ).params()  # fmt: skip
    assert tuned.serial_escort.min_crossings == 4
    assert tuned.flow_surge.min_statistic == 8.0
    assert tuned.retention_days == 30
    assert tuned.identity_many_documents.window_days == 45
    fields = set(AnalystSettings.model_fields)
    assert sum(1 for f in fields if f.endswith("window_days")) == 5  # each person pattern
    assert sum(1 for f in fields if f.endswith("min_score")) == 6  # and flow_surge


@pytest.mark.parametrize("key", ["short", "change-me-change-me-change-me-change-me"])
def test_a_weak_key_is_refused(key: str) -> None:
    with pytest.raises(ValidationError, match="analyst_pseudonym_key"):
        AnalystSettings(analyst_pseudonym_key=key)


def test_the_key_never_shows_in_the_settings_repr() -> None:
    assert STRONG_KEY not in repr(settings())


def alert(**extra: Any) -> Alert:
    now = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    return Alert.model_validate({
        "alert_id": "a-" + "0" * 32, "event_id": EVENT_ID, "entry_id": "RED-1",
        "list": "red_notice", "kind": "person", "band": "strong", "score": 0.97,
        "action": "arrest", "urgency": "urgent", "country": "KAZ", "issuer": "UZB",
        "occurred_at": now, "created_at": now,
        "explanation": [{"field": "surname", "event": "KHOLMATOV", "entry": "Холматов",
                         "how": "transliteration", "score": 0.95}],
        "traveller": {"surname": "KHOLMATOV", "given_names": "ALISHER"},
        "dissemination": {"restricted_to": ["KAZ", "UZB"]},
        **extra,
    })  # fmt: skip


def test_the_history_keeps_the_hit_and_none_of_the_particulars() -> None:
    value = hit_value(encode(alert()))
    hit = ListedHit.model_validate_json(value)
    assert (hit.event_id, hit.entry_id, hit.list, hit.band) == (
        EVENT_ID,
        "RED-1",
        "red_notice",
        "strong",
    )
    assert hit.restricted_to == ["KAZ", "UZB"]
    assert b"KHOLMATOV" not in value
    assert "Холматов".encode() not in value


@pytest.mark.parametrize("value", [None, b"not json", b'{"alert_id": "a-1"}'])
def test_an_unreadable_alert_is_skipped_with_its_reason(value: bytes | None) -> None:
    with pytest.raises(UnreadableRecord):
        hit_value(value)


def record(value: bytes | None, header: tuple[str, bytes], offset: int = 0) -> Any:
    return ConsumerRecord("p-analyst.sightings", 0, offset, 0, 0, None, value, None,
                          len(value or b""), 0, [header])  # fmt: skip


def test_history_records_through_the_patterns() -> None:
    analysis = Analysis(Analyser(Params(), KEY), AnalystMetrics())
    escort = P("TURSUNOV", "BAKHTIYOR", "1979-05-14", number="FA1000001")
    minors = [P("ABDULLAEVA", "MADINA", "2011-02-03", "F"), P("SOBIROV", "JAHONGIR", "2012-07-08"),
              P("NURMATOVA", "ZARINA", "2010-11-12", "F")]  # fmt: skip
    found = []
    for n, minor in enumerate(minors):
        for person in (escort, minor):
            item = event(person, 7 * n, party=party(f"T-{n}", consent="not_shown"))
            found += analysis.handle(record(encode(item), EVENT_HEADER))
    [lead] = found
    assert lead.pattern is Pattern.SERIAL_ESCORT
    with pytest.raises(UnreadableRecord, match="not an event"):
        analysis.handle(record(b'{"event_id": 1}', EVENT_HEADER))
    with pytest.raises(UnreadableRecord, match="not a hit"):
        analysis.handle(record(b"{}", HIT_HEADER))
    with pytest.raises(UnreadableRecord, match="tombstone"):
        analysis.handle(record(None, EVENT_HEADER))
