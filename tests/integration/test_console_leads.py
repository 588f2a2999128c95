"""The Leads view over HTTP against a real broker: leads produced on ``leads`` are read by a
running notifier and shown to analysts of the countries they concern, never to duty officers;
every list, opening and export is on the audit topic before it is answered."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from schemas.lead import LEADS_TOPIC, lead_key
from schemas.notification import AuditAction
from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from services.notifier.console.principal import Role
from tests.support.accounts import account_name, sign_in
from tests.support.lead_data import associate_of_listed, lead_reads, produce_leads, serial_escort
from tests.support.notifier_harness import notifier_settings, produce, read_until

ANALYST = f"KAZ-NCB/{account_name('KAZ-NCB', Role.ANALYST)}"  # the audit trail's actor


@asynccontextmanager
async def signed_in(app: NotifierApp, cp_id: str, role: Role) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.port}") as client:
        assert (await sign_in(client, cp_id, role)).status_code == 200
        yield client


async def test_analysts_see_their_countrys_leads_and_duty_officers_none(
    topics: CommonSettings, console_directory_path: Path
) -> None:
    escort = serial_escort("KAZ")
    elsewhere = serial_escort("TJK", surname="OTHEROVA")
    # Raised in KAZ, one event in TJK, but its entry is restricted to KAZ and UZB.
    restricted = associate_of_listed("KAZ", restricted_to=["KAZ", "UZB"])
    in_tjk = restricted.evidence[0].model_copy(update={"country": "TJK"})
    restricted = restricted.model_copy(update={"evidence": [in_tjk, *restricted.evidence[1:]]})
    await produce_leads(topics, [escort, elsewhere, restricted])
    settings = notifier_settings(topics, console_directory_path)
    async with NotifierApp(settings) as app:
        await asyncio.wait_for(app.leads.caught_up.wait(), 20)
        async with signed_in(app, "KAZ-NCB", Role.ANALYST) as kaz:
            listing = await kaz.get("/console/api/leads")
            assert listing.status_code == 200
            shown = [row["lead_id"] for row in listing.json()["leads"]]
            assert sorted(shown) == sorted([escort.lead_id, restricted.lead_id])
            opened = await kaz.get(f"/console/api/leads/{escort.lead_id}")
            assert opened.status_code == 200
            detail = opened.json()
            assert [e["occurred_at"] for e in detail["evidence"]] == sorted(
                e.occurred_at.isoformat() for e in escort.evidence if e.occurred_at
            )
            assert {n["kind"] for n in detail["chart"]["nodes"]} == {
                "person", "document", "party", "transport",
            }  # fmt: skip
            only = await kaz.get("/console/api/leads", params={"pattern": "associate_of_listed"})
            assert [r["lead_id"] for r in only.json()["leads"]] == [restricted.lead_id]
            refused = await kaz.get("/console/api/leads", params={"min_score": "7"})
            assert refused.status_code == 422
            assert "min_score" in refused.text
            assert (await kaz.get(f"/console/api/leads/{elsewhere.lead_id}")).status_code == 404

        async with signed_in(app, "TJK-NCB", Role.ANALYST) as tjk:
            # An event of the restricted lead happened in TJK: still invisible there.
            listing = await tjk.get("/console/api/leads")
            assert [r["lead_id"] for r in listing.json()["leads"]] == [elsewhere.lead_id]
            assert (await tjk.get(f"/console/api/leads/{restricted.lead_id}")).status_code == 404

        async with signed_in(app, "XPO-CC", Role.ANALYST) as region:
            # The coordination centre: every country's leads, within their dissemination.
            listing = await region.get("/console/api/leads")
            shown = [r["lead_id"] for r in listing.json()["leads"]]
            assert sorted(shown) == sorted([escort.lead_id, elsewhere.lead_id])

        for role in (Role.DUTY_OFFICER, Role.SUPERVISOR, Role.AUDITOR):
            async with signed_in(app, "KAZ-NCB", role) as officer:
                for url in ("/console/api/leads", f"/console/api/leads/{escort.lead_id}",
                            f"/console/api/leads/{escort.lead_id}/export",
                            "/console/api/leads/export"):  # fmt: skip
                    assert (await officer.get(url)).status_code == 403, (role, url)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.port}") as nobody:
            assert (await nobody.get("/console/api/leads")).status_code == 401

    records = await read_until(
        topics, "notifications.audit",
        lambda rs: bool(lead_reads(rs, AuditAction.LEAD_OPENED, ANALYST)),
    )  # fmt: skip
    opens = lead_reads(records, AuditAction.LEAD_OPENED, ANALYST)
    assert [a.details["leads"] for a in opens] == [[escort.lead_id]]
    assert opens[0].details["via"] == "console"
    listed = lead_reads(records, AuditAction.LEADS_LISTED, ANALYST)
    assert sorted(listed[0].details["leads"]) == sorted([escort.lead_id, restricted.lead_id])


async def test_exports_are_audited_and_the_view_follows_the_topic(
    topics: CommonSettings, console_directory_path: Path
) -> None:
    escort = serial_escort("KAZ")
    settings = notifier_settings(topics, console_directory_path)
    async with NotifierApp(settings) as app:
        await asyncio.wait_for(app.leads.caught_up.wait(), 20)
        async with signed_in(app, "KAZ-NCB", Role.ANALYST) as kaz:
            assert (await kaz.get("/console/api/leads")).json()["leads"] == []
            # Produced while the notifier runs: it follows the topic.
            app.leads.changed.clear()
            await produce_leads(topics, [escort])
            await asyncio.wait_for(app.leads.changed.wait(), 20)
            rows = (await kaz.get("/console/api/leads")).json()["leads"]
            assert [r["lead_id"] for r in rows] == [escort.lead_id]

            as_csv = await kaz.get("/console/api/leads/export", params={"format": "csv"})
            assert as_csv.status_code == 200
            assert as_csv.headers["content-type"].startswith("text/csv")
            assert as_csv.headers["content-disposition"].startswith("attachment;")
            lines = list(csv.DictReader(io.StringIO(as_csv.text)))
            assert len(lines) == len(escort.evidence)
            as_json = await kaz.get(f"/console/api/leads/{escort.lead_id}/export")
            assert json.loads(as_json.text)[0]["lead_id"] == escort.lead_id
            bad = await kaz.get(f"/console/api/leads/{escort.lead_id}/export?format=xls")
            assert bad.status_code == 422

            # The analysis service withdraws a lead with a tombstone: it leaves the view.
            app.leads.changed.clear()
            await produce(topics, LEADS_TOPIC, lead_key(escort.lead_id), None)
            await asyncio.wait_for(app.leads.changed.wait(), 20)
            assert (await kaz.get(f"/console/api/leads/{escort.lead_id}")).status_code == 404

    records = await read_until(
        topics, "notifications.audit",
        lambda rs: len(lead_reads(rs, AuditAction.LEADS_EXPORTED, ANALYST)) >= 2,
    )  # fmt: skip
    exported = lead_reads(records, AuditAction.LEADS_EXPORTED, ANALYST)
    assert [(a.details["format"], a.details["leads"]) for a in exported] == [
        ("csv", [escort.lead_id]), ("json", [escort.lead_id]),
    ]  # fmt: skip
