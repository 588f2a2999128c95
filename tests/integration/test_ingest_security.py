"""Attacks on the running ingest service (real HTTP, real broker): batches that would dodge the
rate limit, control characters and impossible times in events (over HTTP and the raw Kafka
intake), and a /docs page that would need a CDN."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import orjson
import pytest

from schemas.codec import decode_event
from schemas.headers import H_FIELD
from schemas.topics import TopicName
from services.common.kafka import make_consumer, partitions_of
from services.common.settings import CommonSettings
from services.ingest.domain.agencies import hash_key
from services.ingest.server import serving
from tests.integration.test_ingest_http import (
    KAZ_KEY,
    KAZ_SECRET,
    event,
    ingest_settings,
    read_events,
    write_agencies,
)
from tests.support.broker import free_port
from tests.support.kafka_io import produce_signed

pytestmark = pytest.mark.timeout(300)
BURST = 5


@contextlib.asynccontextmanager
async def running(
    settings: CommonSettings, agencies: Path, **extra: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """Ingest on a free port, and a client that holds the KAZ-BORDER key."""
    config = ingest_settings(settings, agencies, **{"ingest_raw_enabled": False, **extra})
    async with serving(config, free_port()) as url, httpx.AsyncClient(base_url=url) as client:
        client.headers["Authorization"] = f"Bearer {KAZ_KEY}"
        yield client


@pytest.fixture
async def small_burst(topics: CommonSettings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """KAZ-BORDER may send 5 events at once, and next to nothing after that."""
    agencies = tmp_path / "agencies.yaml"
    kaz = {
        "id": "KAZ-BORDER", "countries": ["KAZ"], "key_sha256": [hash_key(KAZ_KEY)],
        "rate_per_s": 0.01, "burst": BURST,
    }  # fmt: skip
    agencies.write_bytes(orjson.dumps({"agencies": [kaz]}))
    async with running(topics, agencies) as client:
        yield client


@pytest.fixture
async def ingest(topics: CommonSettings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """KAZ-BORDER with the default rate limit (far more than these tests send)."""
    agencies = tmp_path / "agencies.yaml"
    write_agencies(agencies, kaz_keys=[KAZ_KEY])
    async with running(topics, agencies) as client:
        yield client


def crossing(seed: int, **changes: Any) -> dict[str, Any]:
    """An event for events.border_crossing, with a passport (MRZ) when ``seed`` gives one."""
    return event(seed, type="border_crossing", direction="entry", **changes)


async def stored(settings: CommonSettings, *topics: TopicName) -> int:
    """Records on ``topics`` (all partitions). Read after 2xx answers: those were acknowledged."""
    partitions = await partitions_of(settings, *(settings.topic(t) for t in topics))
    consumer = make_consumer(settings, group_id=None)
    await consumer.start()
    try:
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


# --- 1. batches pay the rate limit in full ----------------------------------------------------


async def test_batches_larger_than_the_burst_are_refused_whole(
    small_burst: httpx.AsyncClient, topics: CommonSettings
) -> None:
    """Four batches of 500 from an agency with a burst of 5: none gets in."""
    for round_ in range(4):
        batch = [crossing(1000 * round_ + i) for i in range(500)]
        response = await small_burst.post("/v1/events:batch", json={"events": batch})
        assert response.status_code == 429, response.text[:300]
        assert "retry-after" not in response.headers  # waiting never lets it through
        [error] = response.json()["errors"]
        assert error == {
            "field": "events",
            "rule": "batch_exceeds_burst",
            "message": "a batch of 500 events is larger than this agency's burst of 5: "
            "send at most 5 per request",
        }
    # The refused batches took no token: the agency still has its whole burst, and no more.
    singles = [await small_burst.post("/v1/events", json=crossing(9000 + i)) for i in range(6)]
    assert [r.status_code for r in singles] == [202] * 5 + [429]
    assert int(singles[-1].headers["retry-after"]) >= 1
    assert singles[-1].json()["errors"] == []
    assert await stored(topics, "events.border_crossing") == 5


async def test_batches_within_the_burst_pay_one_token_per_event(
    small_burst: httpx.AsyncClient, topics: CommonSettings
) -> None:
    async def batch(*seeds: int) -> httpx.Response:
        return await small_burst.post(
            "/v1/events:batch", json={"events": [crossing(s) for s in seeds]}
        )

    three = await batch(1, 2, 3)
    assert three.status_code == 202, three.text
    again = await batch(4, 5, 6)
    assert again.status_code == 429  # two tokens left for three events: wait for the third
    assert int(again.headers["retry-after"]) >= 1
    two = await batch(7, 8)
    assert two.status_code == 202, two.text
    assert (await small_burst.post("/v1/events", json=crossing(9))).status_code == 429
    assert await stored(topics, "events.border_crossing") == 5


# --- 2. every text without control characters, times within bounds ----------------------------


def _with_document(seed: int = 0) -> dict[str, Any]:
    return next(e for e in (crossing(s) for s in range(seed, seed + 50)) if "document" in e)


def hostile_texts() -> list[tuple[str, dict[str, Any]]]:
    """(the field at fault, an event whose only fault is a control character there)."""
    cases: list[tuple[str, dict[str, Any]]] = []
    for n, (path, text) in enumerate(
        [
            ("location.code", "KZ\x00ALA"),
            ("location.name", "Almaty\x00<script>"),
            ("location.name", "\x1b[2J\x1b[31mCLEARED"),
            ("reported_by", "KAZ-BORDER\x00"),
            ("document.number", "T1234\n5678"),
            ("document.mrz[0]", None),
        ]
    ):
        body = _with_document(100 * n)
        if path.startswith("location."):
            body["location"][path.split(".")[1]] = text
        elif path == "reported_by":
            body["reported_by"] = text
        elif path == "document.number":
            body["document"]["number"] = text
        else:
            body["document"]["mrz"][0] = body["document"]["mrz"][0][:43] + "\x00"
        cases.append((path, body))
    return cases


async def test_control_characters_in_any_text_are_refused_naming_the_field(
    ingest: httpx.AsyncClient, topics: CommonSettings
) -> None:
    cases = hostile_texts()
    for path, body in cases:
        response = await ingest.post("/v1/events", json=body)
        assert response.status_code == 422, (path, response.text)
        faults = {(e["field"], e["rule"]) for e in response.json()["errors"]}
        assert faults == {(path, "control_char")}, response.text
    batch = await ingest.post("/v1/events:batch", json={"events": [b for _, b in cases]})
    assert batch.status_code == 422, batch.text
    per_item = [[e["field"] for e in r["errors"]] for r in batch.json()["results"]]
    assert per_item == [[path] for path, _ in cases]
    assert await stored(topics, "events.border_crossing", "events.document_check") == 0


async def test_event_times_out_of_bounds_are_refused_naming_occurred_at(
    ingest: httpx.AsyncClient, topics: CommonSettings
) -> None:
    now = dt.datetime.now(dt.UTC)
    refused = {
        "2999-01-01T00:00:00Z": "occurred_in_future",
        (now + dt.timedelta(days=2)).isoformat(): "occurred_in_future",
        "0001-01-01T00:00:00Z": "occurred_too_early",
        "1989-12-31T23:59:59Z": "occurred_too_early",
    }
    for seed, (occurred_at, rule) in enumerate(refused.items()):
        response = await ingest.post("/v1/events", json=crossing(seed, occurred_at=occurred_at))
        assert response.status_code == 422, (occurred_at, response.text)
        faults = [(e["field"], e["rule"]) for e in response.json()["errors"]]
        assert faults == [("occurred_at", rule)], occurred_at
    # A sender's clock a little ahead, and the earliest time allowed, are fine.
    for seed, occurred_at in enumerate(
        [(now + dt.timedelta(hours=3)).isoformat(), "1990-01-01T00:00:00Z"], start=10
    ):
        response = await ingest.post("/v1/events", json=crossing(seed, occurred_at=occurred_at))
        assert response.status_code == 202, (occurred_at, response.text)
    assert await stored(topics, "events.border_crossing") == 2


async def test_raw_kafka_intake_dead_letters_the_same_faults(
    topics: CommonSettings, tmp_path: Path
) -> None:
    agencies = tmp_path / "agencies.yaml"
    write_agencies(agencies, kaz_keys=[KAZ_KEY])
    nul_code = crossing(1)
    nul_code["location"]["code"] = "KZ\x00ALA"
    poison = [nul_code, crossing(2, occurred_at="2999-01-01T00:00:00Z"),
              crossing(3, occurred_at="0001-01-01T00:00:00Z")]  # fmt: skip
    marker = crossing(4)
    extra = {"ingest_raw_enabled": True, "ingest_raw_group": f"{topics.topic_prefix}raw"}
    async with running(topics, agencies, **extra):
        await produce_signed(
            topics, topics.topic("ingest.raw"), [(None, body) for body in [*poison, marker]],
            "KAZ-BORDER", KAZ_SECRET,
        )  # fmt: skip
        dead = await read_events(topics, "ingest.raw.dlq", 3, timeout_s=60)
        [canonical] = await read_events(topics, "events.border_crossing", 1, timeout_s=60)
    fields = sorted(dict(r.headers)[H_FIELD].decode() for r in dead)
    assert fields == ["location.code", "occurred_at", "occurred_at"]
    assert decode_event(canonical.value).event_id == marker["event_id"]
    assert await stored(topics, "events.border_crossing") == 1


# --- 3. the docs work without a CDN ----------------------------------------------------------

_ABSOLUTE_URL = re.compile(r"""https?://[^\s"'<>()]+""", re.IGNORECASE)
_ASSET = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.I)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_only_what_ingest_itself_serves(
    ingest: httpx.AsyncClient, page: str
) -> None:
    response = await ingest.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    own = urlsplit(str(ingest.base_url)).netloc
    foreign = [u for u in _ABSOLUTE_URL.findall(html) if urlsplit(u).netloc != own]
    assert foreign == [], f"{page} refers to other hosts"
    assets = _ASSET.findall(html)
    assert any(a.endswith(".js") for a in assets), assets
    if page == "/docs":
        assert any(a.endswith(".css") for a in assets), assets
    for asset in assets:
        url = urljoin(f"{ingest.base_url}{page}", asset)
        assert urlsplit(url).netloc == own, url
        loaded = await ingest.get(url)
        assert loaded.status_code == 200, url
        assert loaded.content, url
    spec = await ingest.get("/openapi.json")
    assert spec.status_code == 200
    assert "/v1/events:batch" in spec.json()["paths"]
    assert "'/openapi.json'" in html or '"/openapi.json"' in html
