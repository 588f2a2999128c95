"""The audit trail (issue 30, item 5) as ``relay audit`` shows it, on the real broker.

- one alert's trail in order: created (the matcher's alert), delivered, opened by the officer,
  answered, hit report delivered;
- opening an alert is audited even when the officer does nothing else;
- a watchlist load (file, count, who and from where), its cancellations, and a DLQ replay;
- each reload of a configuration file, taken or refused.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from schemas.headers import H_REASON, H_SERVICE, H_TOPIC
from services.common.settings import REPO_ROOT, CommonSettings
from services.notifier.app import NotifierApp
from services.notifier.console.principal import Role
from tests.integration.test_false_match_suppression import crossing, signed_in, stack
from tests.support.accounts import account_name
from tests.support.console_data import console_directory, person_alert, wait_in_stream
from tests.support.kafka_io import TopicReader, produce_json
from tests.support.notifier_harness import notifier_settings, produce_alerts, write_directory

pytestmark = pytest.mark.timeout(240)

OFFICER = f"KAZ-NCB/{account_name('KAZ-NCB', Role.DUTY_OFFICER)}"


async def relay(settings: CommonSettings, *args: str) -> tuple[int, str, str]:
    """The real ``relay`` command in a child process, configured only by the environment."""
    env = {
        **os.environ,
        "RELAY_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "RELAY_TOPIC_PREFIX": settings.topic_prefix,
        "RELAY_LOG_FORMAT": "json",
        "COLUMNS": "250",  # the table as a wide terminal shows it, one row a line
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.cli.main", *args, cwd=REPO_ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def trail(settings: CommonSettings, *args: str) -> list[dict[str, Any]]:
    code, out, err = await relay(settings, "audit", *args, "--format", "jsonl")
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def step(row: dict[str, Any]) -> str:
    """The steps of the must-show, named as an oversight body reads them; others are ''."""
    action, details = row["action"], row["details"]
    if action == "created":
        return "created"
    recipient = details.get("recipient")
    if action == "delivered" and details.get("notice", "alert") == "alert":
        return "delivered" if recipient == "KAZ-NCB" else ""  # to the officer's desk
    if action == "opened":
        return f"opened by {row['actor']}"
    if action == "answered":
        return f"answered {details.get('outcome')}"
    if action == "delivered" and details.get("notice") == "hit_report":
        return "hit report delivered" if recipient == "UZB-NCB" else ""  # to the issuer
    return ""


async def test_relay_audit_lists_one_alerts_trail_in_order(
    topics: CommonSettings, console_directory_path: Path
) -> None:
    async with stack(topics, console_directory_path) as s:
        event = crossing("ZZ5555555")
        await s.cross(event)
        alert = await s.alert_of(event)
        alert_id = alert["alert_id"]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{s.notifier.port}") as kaz:
            csrf = await signed_in(kaz, Role.DUTY_OFFICER)
            await wait_in_stream(kaz, alert_id)
            opened = await kaz.get(f"/console/api/alerts/{alert_id}")
            assert opened.status_code == 200
            answer = await kaz.post(
                f"/console/api/alerts/{alert_id}/outcome",
                json={"outcome": "refused_entry", "comment": "Refused at the desk."},
                headers=csrf,
            )  # fmt: skip
            assert answer.status_code == 200, answer.text

        def reported(records: Any) -> bool:
            values = (orjson.loads(r.value) for r in records if r.value is not None)
            return any(
                v.get("alert_id") == alert_id
                and v["action"] == "delivered"
                and v["details"].get("notice") == "hit_report"
                for v in values
            )

        await s.audit.until(reported, 30)

    rows = await trail(topics, "--alert", alert_id)
    assert {r["alert_id"] for r in rows} == {alert_id}
    steps = [name for name in map(step, rows) if name]
    assert steps == [
        "created",
        "delivered",
        f"opened by {OFFICER}",
        "answered refused_entry",
        "hit report delivered",
    ], steps
    assert rows[0]["details"]["event_id"] == event["event_id"]
    opened_row = next(r for r in rows if r["action"] == "opened")
    assert opened_row["details"]["via"] == "console"
    assert opened_row["details"]["client"] == "127.0.0.1"  # from where
    # The same trail, as CSV, and selected by entry and country.
    code, out, err = await relay(topics, "audit", "--alert", alert_id, "--format", "csv")
    assert code == 0, err
    assert [r["action"] for r in csv.DictReader(io.StringIO(out))] == [r["action"] for r in rows]
    by_entry = await trail(topics, "--entry", alert["entry_id"], "--action", "delivered")
    assert by_entry
    assert all(r["details"]["entry_id"] == alert["entry_id"] for r in by_entry)
    assert all(r["details"]["country"] == "UZB" for r in await trail(
        topics, "--alert", alert_id, "--country", "UZB", "--action", "delivered"))  # fmt: skip
    code, table, err = await relay(topics, "audit", "--alert", alert_id)
    assert code == 0, err
    assert "opened" in table
    assert "answered" in table


async def test_opening_an_alert_is_audited_even_when_the_officer_does_nothing_else(
    topics: CommonSettings, console_directory_path: Path
) -> None:
    alert = person_alert("TESTOV", "SINTET", [{"surname": "TESTOV", "given_names": "SINTET"}])
    async with NotifierApp(notifier_settings(topics, console_directory_path)) as app:
        await produce_alerts(topics, [alert])
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.port}") as kaz:
            await signed_in(kaz, Role.DUTY_OFFICER)
            await wait_in_stream(kaz, alert.alert_id)
            opened = await kaz.get(f"/console/api/alerts/{alert.alert_id}")
            assert opened.status_code == 200
            # ... and the officer closes the page: no acknowledgement, no outcome.
    rows = await trail(topics, "--officer", account_name("KAZ-NCB", Role.DUTY_OFFICER))
    actions = [(r["action"], r["alert_id"]) for r in rows]
    assert ("opened", alert.alert_id) in actions
    assert ("signed_in", None) in actions
    assert not [a for a, _ in actions if a in {"acknowledged", "answered"}]


async def test_watchlist_load_cancellation_and_dlq_replay_are_audited(
    topics: CommonSettings, tmp_path: Path
) -> None:
    feed = tmp_path / "red.jsonl"
    entries = [
        {"entry_id": f"RED-AU-{n}", "list": "red_notice", "status": "active", "issuer": "UZB",
         "action": "arrest", "person": {"names": [{"surname": f"TESTOV{n}"}]}}
        for n in range(3)
    ]  # fmt: skip
    entries[2]["status"] = "cancelled"
    feed.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    code, _, err = await relay(topics, "watchlist", "load", str(feed), "--format", "jsonl")
    assert code == 0, err
    code, _, err = await relay(topics, "watchlist", "cancel", "RED-AU-0")
    assert code == 0, err
    source = topics.topic("events.border_crossing")
    dead_letter = [(H_REASON, b"test"), (H_SERVICE, b"matcher"), (H_TOPIC, source.encode())]
    await produce_json(topics, topics.topic("events.dlq"), [("k1", {"x": 1})], dead_letter)
    code, _, err = await relay(topics, "dlq", "replay", "events.dlq")
    assert code == 0, err

    kinds = ("watchlist_loaded", "entry_cancelled", "dlq_replayed")
    rows = await trail(topics, *(x for k in kinds for x in ("--action", k)))
    assert [r["action"] for r in rows] == [
        "watchlist_loaded", "entry_cancelled", "entry_cancelled", "dlq_replayed",
    ]  # fmt: skip
    loaded = rows[0]["details"]
    assert (loaded["file"], loaded["entries"], loaded["published"]) == (str(feed), 3, 3)
    assert loaded["cancelled"] == 1
    assert len(loaded["sha256"]) == 64
    assert {"principal", "host"} <= set(loaded)
    assert [(r["details"]["entry_id"], r["details"]["by"]) for r in rows[1:3]] == [
        ("RED-AU-2", "load"), ("RED-AU-0", "cancel"),
    ]  # fmt: skip
    assert rows[3]["details"]["replayed"] == 1
    assert rows[3]["details"]["targets"] == [source]
    assert all(r["actor"] == rows[0]["actor"] and "@" in r["actor"] for r in rows)


async def test_each_reload_of_the_directory_is_audited_taken_or_refused(
    topics: CommonSettings, console_directory_path: Path
) -> None:
    async with NotifierApp(notifier_settings(topics, console_directory_path)) as app:
        async with TopicReader(topics, topics.topic("notifications.audit")) as audit:

            def reloads(records: Any) -> list[tuple[str, int, bool]]:
                values = (orjson.loads(r.value) for r in records if r.value is not None)
                return [
                    (v["details"]["file"], v["details"]["version"], v["details"]["taken"])
                    for v in values
                    if v["action"] == "settings_reloaded"
                ]

            raw = console_directory()
            raw["contact_points"][0]["name"] = "NCB Astana (night desk)"
            write_directory(console_directory_path, raw)
            await audit.until(lambda rs: ("directory", 2, True) in reloads(rs), 30)
            write_directory(console_directory_path, {"contact_points": "not a list"})
            await audit.until(lambda rs: ("directory", 2, False) in reloads(rs), 30)
        assert app.directory().get("KAZ-NCB") is not None  # the last good version stays
