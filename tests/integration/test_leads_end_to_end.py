"""Issue 28's chain on the real broker: border events posted to ingest (HTTP) -> the analysis
service -> a lead on ``leads`` -> the notifier's console, where an analyst of the country sees
and opens it (audited first), and a duty officer of the same bureau is refused.

ingest -> events.border_crossing -> analyst -> leads -> notifier (console, Leads view)
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.lead import Lead, Pattern
from schemas.notification import AuditAction
from services.analyst.app import AnalystApp
from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from services.notifier.console.principal import Role
from tests.integration.test_analyst_stream import (
    ESCORT,
    MINORS,
    analyst_settings,
    ingest,  # noqa: F401 (the fixture: ingest serving on a free port)
    post,
    trip,
)
from tests.support.accounts import account_name, sign_in
from tests.support.lead_data import lead_reads
from tests.support.notifier_harness import notifier_settings, read_until

pytestmark = pytest.mark.timeout(180)


async def test_events_through_ingest_become_a_lead_only_an_analyst_sees(
    topics: CommonSettings,
    ingest: httpx.AsyncClient,  # noqa: F811 (the fixture imported above)
    console_directory_path: Path,
) -> None:
    escort = [
        *trip(ESCORT, MINORS[0], 20, "shown"),
        *trip(ESCORT, MINORS[1], 12, None),
        *trip(ESCORT, MINORS[2], 5, "not_shown"),
    ]
    settings = notifier_settings(topics, console_directory_path)
    async with AnalystApp(analyst_settings(topics)), NotifierApp(settings) as notifier:
        await post(ingest, escort)

        def escort_leads() -> list[Lead]:
            return [x for x in notifier.leads.all() if x.pattern is Pattern.SERIAL_ESCORT]

        async def published() -> None:
            while not escort_leads():
                notifier.leads.changed.clear()
                await notifier.leads.changed.wait()

        await asyncio.wait_for(published(), 90)
        [lead] = escort_leads()
        base = f"http://127.0.0.1:{notifier.port}"
        async with (
            httpx.AsyncClient(base_url=base) as analyst,
            httpx.AsyncClient(base_url=base) as officer,
        ):
            assert (await sign_in(analyst, "KAZ-NCB", Role.ANALYST)).status_code == 200
            assert (await sign_in(officer, "KAZ-NCB", Role.DUTY_OFFICER)).status_code == 200

            rows = (await analyst.get("/console/api/leads")).json()["leads"]
            assert [r["lead_id"] for r in rows] == [lead.lead_id]
            opened = await analyst.get(f"/console/api/leads/{lead.lead_id}")
            assert opened.status_code == 200
            detail = opened.json()
            names = {s["name"] for s in detail["subjects"]}
            assert "TURSUNOV BAKHTIYOR" in names
            sent = {e["event_id"] for e in escort}
            assert {e["event_id"] for e in detail["evidence"]} <= sent
            times = [e["occurred_at"] for e in detail["evidence"]]
            assert times == sorted(times)
            chart = detail["chart"]
            assert sum(n["kind"] == "person" for n in chart["nodes"]) == 4
            _assert_parties_and_flights(chart, escort)

            for url in ("/console/api/leads", f"/console/api/leads/{lead.lead_id}"):
                assert (await officer.get(url)).status_code == 403

    actor = f"KAZ-NCB/{account_name('KAZ-NCB', Role.ANALYST)}"

    records = await read_until(
        topics, "notifications.audit",
        lambda rs: bool(lead_reads(rs, AuditAction.LEAD_OPENED, actor)),
    )  # fmt: skip
    opens = lead_reads(records, AuditAction.LEAD_OPENED, actor)
    assert [a.details["leads"] for a in opens] == [[lead.lead_id]]


def _assert_parties_and_flights(chart: dict[str, Any], sent: list[dict[str, Any]]) -> None:
    """The evidence links each person to the party and the flight of each crossing: the escort
    to all three, each minor to its own, every edge labelled with the day and the words."""
    kinds = {n["id"]: n["kind"] for n in chart["nodes"]}
    labels = {n["id"]: n["label"] for n in chart["nodes"]}
    parties = {e["party"]["id"] for e in sent}
    flights = {
        f"air {e['transport']['number']} {e['occurred_at'][:10]}" for e in sent
    }  # the events' times are UTC ("...Z"): their first ten characters are the UTC day
    assert {labels[i] for i, k in kinds.items() if k == "party"} == parties
    assert {labels[i] for i, k in kinds.items() if k == "transport"} == flights
    linked: dict[str, set[str]] = {}
    for edge in chart["edges"]:
        if kinds[edge["target"]] in ("party", "transport"):
            assert kinds[edge["source"]] == "person"
            assert edge["label"][:10] in {e["occurred_at"][:10] for e in sent}
            linked.setdefault(edge["source"], set()).add(labels[edge["target"]])
    escort = next(i for i, label in labels.items() if label.startswith("TURSUNOV"))
    assert linked.pop(escort) == parties | flights
    assert len(linked) == 3  # each minor: its own party and flight
    assert all(len(targets) == 2 for targets in linked.values())
    assert {frozenset(t) for t in linked.values()} <= {
        frozenset({e["party"]["id"], f"air {e['transport']['number']} {e['occurred_at'][:10]}"})
        for e in sent
    }
