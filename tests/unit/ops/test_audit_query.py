"""``relay audit``'s selection, order and exports, on records built here."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from schemas.notification import AuditAction
from services.cli.audit_cmd import csv_text, jsonl_text, table
from services.cli.main import app
from services.common.audit import audit_record
from services.tooling.ops.audit import AuditQuery, Row, country_of, ordered, selects

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
ALERT = "a-" + "3" * 32


def row(
    action: AuditAction, actor: str, minutes: int, alert: str | None = ALERT, **details: object
) -> Row:
    record = audit_record(action, actor, alert, **details)
    return Row.of(record.model_copy(update={"at": T0 + timedelta(minutes=minutes)}))


ROWS = [
    row(AuditAction.DELIVERED, "notifier", 1, recipient="KAZ-NCB", channel="console",
        country="KAZ", entry_id="RED-T-1"),
    row(AuditAction.OPENED, "KAZ-NCB/kaz.duty1", 2, via="console", client="10.0.0.7"),
    row(AuditAction.SIGN_IN_REFUSED, "anonymous", 3, None, via="console", client="10.0.0.9"),
    row(AuditAction.WATCHLIST_LOADED, "ops@host", 4, None, file="/tmp/red.jsonl",
        principal="loader", host="host"),
    row(AuditAction.OPENED, "UZB-NCB/uzb.duty1", 5, "a-" + "4" * 32),
]  # fmt: skip


def test_selects_by_alert_officer_country_action_and_time() -> None:
    def pick(**query: object) -> list[str]:
        q = AuditQuery(**query)  # type: ignore[arg-type]
        return [f"{r.action}:{r.actor}" for r in ROWS if selects(q, r)]

    assert pick(alert_id=ALERT) == ["delivered:notifier", "opened:KAZ-NCB/kaz.duty1"]
    assert pick(officer="kaz.duty1") == ["opened:KAZ-NCB/kaz.duty1"]
    assert pick(officer="KAZ-NCB/kaz.duty1") == ["opened:KAZ-NCB/kaz.duty1"]
    assert pick(country="KAZ") == ["delivered:notifier", "opened:KAZ-NCB/kaz.duty1"]
    assert pick(entry_id="RED-T-1") == ["delivered:notifier"]
    assert pick(actions=frozenset({"watchlist_loaded"})) == ["watchlist_loaded:ops@host"]
    span = pick(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=3))
    assert span == ["opened:KAZ-NCB/kaz.duty1", "sign_in_refused:anonymous"]


def test_country_from_the_record_or_the_contact_point() -> None:
    assert [country_of(r) for r in ROWS] == ["KAZ", "KAZ", None, None, "UZB"]


def test_oldest_first_and_ties_keep_the_written_order() -> None:
    a = Row(T0, "delivered", "notifier", ALERT, order=(1, 8))
    b = Row(T0, "opened", "KAZ-NCB/kaz.duty1", ALERT, order=(1, 9))
    c = Row(T0 - timedelta(seconds=1), "created", "matcher", ALERT, order=(-1, 0))
    assert ordered([b, a, c]) == [c, a, b]


def test_exports_csv_and_json_lines() -> None:
    lines = [json.loads(line) for line in jsonl_text(ROWS).splitlines()]
    assert [line["action"] for line in lines] == [r.action for r in ROWS]
    assert lines[1]["details"] == {"via": "console", "client": "10.0.0.7"}
    parsed = list(csv.DictReader(io.StringIO(csv_text(ROWS))))
    assert parsed[0]["country"] == "KAZ"
    assert parsed[0]["entry_id"] == "RED-T-1"
    assert parsed[1]["where"] == "via=console client=10.0.0.7"
    assert json.loads(parsed[3]["details"])["file"] == "/tmp/red.jsonl"
    assert table(ROWS).row_count == len(ROWS)


def test_a_bad_time_is_refused_naming_the_option() -> None:
    result = CliRunner().invoke(app, ["audit", "--since", "yesterday"])
    assert result.exit_code == 2
    assert "--since" in result.output
