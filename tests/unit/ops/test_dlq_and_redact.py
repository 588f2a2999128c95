"""Dead-letter headers, replay headers and redaction (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from schemas.headers import H_REASON, H_REPLAY_COUNT, H_REPLAYED_AT, H_REPLAYED_FROM, H_TOPIC
from services.common.fate import dead_letter_headers
from services.tooling.ops.dlq import OffsetFilter, parse, plan_item, replay_headers
from services.tooling.ops.redact import render_text, render_value

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@dataclass
class Rec:
    topic: str
    partition: int = 0
    offset: int = 0
    timestamp: int = 0
    key: bytes | None = None
    value: bytes | None = b"{}"
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def _dead(original: Rec, offset: int = 4) -> Rec:
    headers = dead_letter_headers(
        original,
        service="ingest",
        reason="bad date",
        field="occurred_at",
        error="PermanentError",
        attempts=1,
    )
    return Rec(topic="ingest.raw.dlq", offset=offset, headers=headers)


def test_parse_reads_the_fate_headers() -> None:
    letter = parse(_dead(Rec(topic="ingest.raw", partition=2, offset=9, headers=[("tp", b"1")])))
    assert (letter.reason, letter.field, letter.service) == ("bad date", "occurred_at", "ingest")
    assert (letter.original_topic, letter.original_partition, letter.original_offset) == (
        "ingest.raw",
        2,
        9,
    )
    assert letter.replay_count == 0


def test_replay_headers_keep_the_originals_and_count_replays() -> None:
    dead = _dead(Rec(topic="ingest.raw", headers=[("traceparent", b"00-1")]))
    first = dict(replay_headers(dead, NOW))
    assert first == {
        "traceparent": b"00-1",
        H_REPLAYED_FROM: b"ingest.raw.dlq:0:4",
        H_REPLAYED_AT: NOW.isoformat().encode(),
        H_REPLAY_COUNT: b"1",
    }
    # Replayed, failed again, dead-lettered again: the count goes on.
    again = _dead(Rec(topic="ingest.raw", headers=replay_headers(dead, NOW)), offset=5)
    second = dict(replay_headers(again, NOW))
    assert second[H_REPLAY_COUNT] == b"2"
    assert second[H_REPLAYED_FROM] == b"ingest.raw.dlq:0:5"
    assert H_REASON not in second
    assert H_TOPIC not in second


def test_plan_skips_records_without_an_existing_origin() -> None:
    assert plan_item(Rec(topic="x.dlq"), None).skipped == f"no {H_TOPIC} header"
    dead = _dead(Rec(topic="ingest.raw"))
    assert plan_item(dead, {"other"}).skipped == "topic does not exist"
    assert plan_item(dead, {"ingest.raw"}).target == "ingest.raw"


def test_offset_filter_bounds_are_inclusive() -> None:
    flt = OffsetFilter(partition=1, from_offset=3, to_offset=5)
    assert [o for o in range(8) if flt.accepts(1, o)] == [3, 4, 5]
    assert not flt.accepts(0, 4)


def test_values_are_redacted_by_key_and_mrz() -> None:
    raw = (
        b'{"country": "KAZ", "traveller": {"surname": "TESTOV", "date_of_birth": "1990",'
        b' "sex": "M"}, "document": {"number": "ZZ1", "type": "P"},'
        b' "note": "P<UZBTESTOV<<ALI<<<<<<<<<<<<<<<<<<<<<<<<<<<<<",'
        b' "explanation": [{"field": "surname", "event": "TESTOV", "entry": "T", "how": "x"}]}'
    )
    shown = render_value(raw, show_pii=False)
    assert shown["country"] == "KAZ"
    assert shown["traveller"] == {
        "surname": "[redacted]",
        "date_of_birth": "[redacted]",
        "sex": "M",
    }
    assert shown["document"] == {"number": "[redacted]", "type": "P"}
    assert "TESTOV" not in str(shown)
    assert shown["explanation"][0]["how"] == "x"
    assert render_value(raw, show_pii=True)["traveller"]["surname"] == "TESTOV"


def test_non_json_values_are_withheld_and_tombstones_kept() -> None:
    assert render_value(b"TESTOV;1990", show_pii=False) == "[11 bytes, not JSON: withheld]"
    assert render_value(b"TESTOV;1990", show_pii=True) == "TESTOV;1990"
    assert render_value(None, show_pii=False) is None
    assert "TESTOV" not in render_text(
        "P<UZBTESTOV<<ALI<<<<<<<<<<<<<<<<<<<<<<<<<<<<<", show_pii=False
    )
