"""The analysis service on the real broker: border events posted to ingest (HTTP) become a
lead on ``leads``; a family crossing as often makes none; a restarted analyst rebuilds its
history from ``analyst.sightings`` and grows the same lead instead of doubling it.

ingest (HTTP) -> events.border_crossing -> analyst (copier -> analyst.sightings -> analysis)
-> leads
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.codec import decode
from schemas.lead import Lead, Pattern
from services.analyst.app import HISTORY_REBUILT, AnalystApp
from services.analyst.settings import AnalystSettings
from services.common.settings import CommonSettings
from services.ingest.server import serving
from tests.integration.test_ingest_http import KAZ_KEY, ingest_settings, write_agencies
from tests.support.broker import free_port
from tests.support.kafka_io import TopicReader
from tests.support.process import ServiceProcess

pytestmark = pytest.mark.timeout(180)

KEY = "analyst-test-key-Q3v9ZpL2xW7mN4bR8tY1"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
STOP_WITHIN_S = 5  # SIGTERM to exit; Kubernetes kills the pod after its grace period (30 s)
POST = {"code": "KZ-ALA-AIR", "name": "Almaty International Airport", "kind": "air"}


def crossing(
    who: tuple[str, str, str, str], days_ago: float, party: dict[str, Any], flight: str
) -> dict[str, Any]:
    surname, given, born, number = who
    occurred = NOW - dt.timedelta(days=days_ago)
    return {
        "event_id": str(uuid.uuid4()), "type": "border_crossing", "direction": "exit",
        "occurred_at": occurred.isoformat().replace("+00:00", "Z"),
        "reported_by": "KAZ-BORDER", "country": "KAZ", "location": POST,
        "traveller": {"surname": surname, "given_names": given, "date_of_birth": born,
                      "nationality": "UZB"},
        "document": {"number": number, "issuing_state": "UZB", "type": "P",
                     "expiry_date": "2031-05-01"},
        "party": party,
        "transport": {"mode": "air", "carrier": "KC", "number": flight, "destination": "ARE"},
    }  # fmt: skip


ESCORT = ("TURSUNOV", "BAKHTIYOR", "1979-05-14", "FA1000001")
MINORS = [
    ("ABDULLAEVA", "MADINA", "2011-02-03", "FA2000001"),
    ("SOBIROV", "JAHONGIR", "2012-07-08", "FA2000002"),
    ("NURMATOVA", "ZARINA", "2010-11-12", "FA2000003"),
    ("Холиқова", "Лола", "2013-01-20", "FA2000004"),
]
PARENT = ("KARIMOV", "SHERZOD", "1982-04-04", "FA3000001")
CHILD = ("KARIMOVA", "MALIKA", "2014-03-03", "FA3000002")


def trip(adult: tuple[str, str, str, str], minor: tuple[str, str, str, str], days_ago: float,
         consent: str | None) -> list[dict[str, Any]]:  # fmt: skip
    pid = f"KZ-ALA-AIR-{uuid.uuid4().hex[:8]}"
    flight = f"KC{int(days_ago) + 100}"
    return [
        crossing(adult, days_ago, {"id": pid, "role": "guardian", "size": 2}, flight),
        crossing(minor, days_ago, {"id": pid, "role": "member", "size": 2, "consent": consent},
                 flight),
    ]  # fmt: skip


def analyst_settings(topics: CommonSettings) -> AnalystSettings:
    return AnalystSettings(
        kafka_bootstrap=topics.kafka_bootstrap,
        topic_prefix=topics.topic_prefix,
        analyst_http_port=free_port(),
        analyst_pseudonym_key=KEY,
    )


@pytest.fixture
async def ingest(topics: CommonSettings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    agencies = tmp_path / "agencies.yaml"
    write_agencies(agencies, kaz_keys=[KAZ_KEY])
    config = ingest_settings(topics, agencies, ingest_raw_enabled=False)
    async with serving(config, free_port()) as url, httpx.AsyncClient(base_url=url) as client:
        client.headers["Authorization"] = f"Bearer {KAZ_KEY}"
        yield client


async def post(ingest: httpx.AsyncClient, events: list[dict[str, Any]]) -> None:
    for body in events:
        response = await ingest.post("/v1/events", json=body)
        assert response.status_code == 202, response.text


def rebuilt(app: AnalystApp) -> bool:
    return bool(app.readiness.snapshot()[HISTORY_REBUILT]["ok"])


def escort_leads(reader: TopicReader) -> list[Lead]:
    leads = [decode(Lead, r.value) for r in reader.records if r.value is not None]
    return [lead for lead in leads if lead.pattern is Pattern.SERIAL_ESCORT]


async def test_events_through_ingest_become_one_lead_that_survives_a_restart(
    topics: CommonSettings, ingest: httpx.AsyncClient
) -> None:
    # a family with its own child every week: never a lead
    family = [e for week in range(4) for e in trip(PARENT, CHILD, 28 - 7 * week, "shown")]
    escort = [
        *trip(ESCORT, MINORS[0], 20, "shown"),
        *trip(ESCORT, MINORS[1], 12, None),
        *trip(ESCORT, MINORS[2], 5, "not_shown"),
    ]
    settings = analyst_settings(topics)
    async with AnalystApp(settings) as first, TopicReader(topics, topics.topic("leads")) as leads:
        await post(ingest, family + escort)
        # the lead may come from the start's replay, published just before readiness turns
        await leads.until(lambda _: len(escort_leads(leads)) >= 1 and rebuilt(first), 60)
        [lead] = escort_leads(leads)
        assert lead.subjects[0].role == "escort"
        assert lead.subjects[0].traveller is not None
        assert lead.subjects[0].traveller.surname == "TURSUNOV"
        assert {s.traveller.surname for s in lead.subjects[1:] if s.traveller} == {
            "ABDULLAEVA", "SOBIROV", "NURMATOVA",
        }  # fmt: skip
        completing = escort[-1]["event_id"]
        assert completing in {e.event_id for e in lead.evidence}
        assert "without a parental consent shown" in lead.summary
        # the family's crossings are in the history, and made no lead of any pattern
        sent = {e["event_id"] for e in family}
        assert not any(sent & {e.event_id for e in x.evidence} for x in escort_leads(leads))

    # A new analyst: the state comes back from analyst.sightings, nothing is published again,
    # and a fourth crossing grows the same lead.
    async with (
        AnalystApp(analyst_settings(topics)),
        TopicReader(topics, topics.topic("leads")) as again,
    ):
        await again.until(lambda _: len(escort_leads(again)) >= 1, 30)
        await post(ingest, trip(ESCORT, MINORS[3], 1, None))
        await again.until(lambda _: len(escort_leads(again)) >= 2, 60)
        versions = escort_leads(again)
        assert len(versions) == 2  # the first record, then the grown one: none replayed again
        grown = versions[-1]
        assert grown.lead_id == lead.lead_id
        assert len(grown.evidence) == len(lead.evidence) + 2
        assert grown.created_at == lead.created_at
        assert "4 separate crossings" in grown.summary


async def test_a_graceful_stop_of_the_process_is_quick(
    topics: CommonSettings, ingest: httpx.AsyncClient, tmp_path: Path
) -> None:
    """SIGTERM to the real process (``python -m services.analyst``) once it has copied events,
    published a lead and follows its history: it exits 0 within a few seconds (a rolling
    deployment waits for it, and Kubernetes kills it after its grace period)."""
    port = free_port()
    env = {
        "RELAY_KAFKA_BOOTSTRAP": topics.kafka_bootstrap,
        "RELAY_TOPIC_PREFIX": topics.topic_prefix,
        "RELAY_ANALYST_HTTP_PORT": str(port),
        "RELAY_ANALYST_PSEUDONYM_KEY": KEY,
    }
    analyst = ServiceProcess("services.analyst", env, tmp_path / "analyst.log").start()
    try:
        await asyncio.to_thread(analyst.wait_http, f"http://127.0.0.1:{port}/readyz")
        async with TopicReader(topics, topics.topic("leads")) as leads:
            await post(ingest, [e for n in range(3) for e in trip(ESCORT, MINORS[n], 9 - n, None)])
            await leads.until(lambda _: len(escort_leads(leads)) >= 1, 60)
        started = time.monotonic()
        code = await asyncio.to_thread(analyst.stop, 30)
        took = time.monotonic() - started
    finally:
        analyst.kill()
    assert code == 0, analyst.log()
    assert took < STOP_WITHIN_S, f"{took:.1f} s to exit:\n{analyst.log()}"
