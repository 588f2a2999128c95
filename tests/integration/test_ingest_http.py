"""Ingest's HTTP API on a real uvicorn server and the real broker."""

from __future__ import annotations

import asyncio
import base64
import os
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from schemas.codec import decode_event
from schemas.headers import H_SCHEMA
from schemas.topics import TopicName
from services.common.kafka import make_consumer, partitions_of
from services.common.settings import CommonSettings
from services.ingest.api_models import Accepted, BatchResult
from services.ingest.domain.agencies import hash_key
from services.ingest.server import serving
from services.ingest.settings import IngestSettings
from services.ingest.synthetic import make_event
from tests.support.broker import free_port

KAZ_KEY = "test-kaz-key-0123456789"
UZB_KEY = "test-uzb-key-0123456789"
# What each signs its records on ingest.raw with (schemas.intake).
KAZ_SECRET = "whsec_" + base64.b64encode(b"test-kaz-intake-secret-0123456").decode()
UZB_SECRET = "whsec_" + base64.b64encode(b"test-uzb-intake-secret-0123456").decode()


def write_agencies(path: Path, *, kaz_keys: list[str], rate: float | None = None) -> None:
    kaz: dict[str, Any] = {
        "id": "KAZ-BORDER", "countries": ["KAZ"], "key_sha256": [hash_key(k) for k in kaz_keys],
        "intake_secrets": [KAZ_SECRET],
    }  # fmt: skip
    if rate is not None:
        kaz.update(rate_per_s=rate, burst=rate)
    uzb = {"id": "UZB-BORDER", "countries": ["UZB"], "key_sha256": [hash_key(UZB_KEY)],
           "intake_secrets": [UZB_SECRET]}  # fmt: skip
    path.write_bytes(orjson.dumps({"agencies": [kaz, uzb]}))  # JSON is YAML


def ingest_settings(settings: CommonSettings, agencies: Path, **extra: Any) -> IngestSettings:
    return IngestSettings(
        kafka_bootstrap=settings.kafka_bootstrap,
        topic_prefix=settings.topic_prefix,
        ingest_agencies_file=agencies,
        **extra,
    )


async def read_events(
    settings: CommonSettings, topic: TopicName, count: int, timeout_s: float = 60
) -> list[Any]:
    """Every record of ``topic`` from the start, until ``count`` arrived (or the timeout)."""
    consumer = make_consumer(settings, group_id=None)
    await consumer.start()
    try:
        consumer.assign(await partitions_of(settings, settings.topic(topic)))
        await consumer.seek_to_beginning()
        records: list[Any] = []

        async def fill() -> None:
            while len(records) < count:
                batch = await consumer.getmany(timeout_ms=500)
                for part in batch.values():
                    records.extend(part)

        await asyncio.wait_for(fill(), timeout_s)
        return records
    finally:
        await consumer.stop()


@pytest.fixture
async def agencies_file(tmp_path: Path) -> Path:
    path = tmp_path / "agencies.yaml"
    write_agencies(path, kaz_keys=[KAZ_KEY], rate=50)
    return path


@pytest.fixture
async def ingest(topics: CommonSettings, agencies_file: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = ingest_settings(topics, agencies_file, ingest_raw_enabled=False, ingest_batch_max=20)
    async with serving(config, free_port()) as url, httpx.AsyncClient(base_url=url) as client:
        client.headers["Authorization"] = f"Bearer {KAZ_KEY}"
        yield client


def event(seed: int = 1, **changes: Any) -> dict[str, Any]:
    body = make_event(random.Random(seed))
    body.update(changes)
    return body


async def test_accepted_event_is_on_its_topic_with_header_key_and_received_at(
    ingest: httpx.AsyncClient, topics: CommonSettings
) -> None:
    body = event(type="document_check")
    body.pop("direction", None)
    response = await ingest.post("/v1/events", json=body)
    assert response.status_code == 202, response.text
    assert response.json()["outcome"] == "accepted"
    [record] = await read_events(topics, "events.document_check", 1)
    stored = decode_event(record.value)
    assert stored.event_id == body["event_id"]
    assert stored.received_at is not None
    assert (H_SCHEMA, b"event/1") in record.headers
    assert record.key is not None
    assert len(record.key) == 32


async def test_mrz_disagreement_is_flagged_not_overwritten(
    ingest: httpx.AsyncClient, topics: CommonSettings
) -> None:
    body = next(e for e in (event(s) for s in range(50)) if "document" in e)
    body["type"], body["direction"] = "border_crossing", "entry"
    sent_surname = body["traveller"]["surname"] + "X"
    body["traveller"]["surname"] = sent_surname
    del body["traveller"]["sex"]
    response = await ingest.post("/v1/events", json=body)
    assert response.status_code == 202, response.text
    flags = {(f["field"], f["reason"]) for f in response.json()["flags"]}
    assert ("traveller.surname", "disagrees with the MRZ") in flags
    assert ("traveller.sex", "filled from the MRZ") in flags
    [record] = await read_events(topics, "events.border_crossing", 1)
    stored = decode_event(record.value)
    assert stored.traveller.surname == sent_surname
    assert stored.traveller.sex in ("M", "F")
    assert stored.mrz_valid is True


async def test_no_or_unknown_key_is_401_and_both_headers_work(ingest: httpx.AsyncClient) -> None:
    body = event(2)
    bare = httpx.AsyncClient(base_url=ingest.base_url)
    async with bare:
        no_key = await bare.post("/v1/events", json=body)
        assert no_key.status_code == 401
        wrong = await bare.post("/v1/events", json=body, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == "Bearer"
        conflicting = {"Authorization": "Basic eDp5", "X-API-Key": KAZ_KEY}
        assert (await bare.post("/v1/events", json=body, headers=conflicting)).status_code == 401
        api_key = await bare.post("/v1/events", json=body, headers={"X-API-Key": KAZ_KEY})
        assert api_key.status_code == 202, api_key.text


async def test_other_country_or_other_agency_is_403(ingest: httpx.AsyncClient) -> None:
    other_country = await ingest.post("/v1/events", json=event(3, country="UZB"))
    assert other_country.status_code == 403
    assert other_country.json()["errors"][0]["field"] == "country"
    spoofed = await ingest.post("/v1/events", json=event(3, reported_by="UZB-BORDER"))
    assert spoofed.status_code == 403
    assert spoofed.json()["errors"][0]["field"] == "reported_by"


async def test_invalid_event_is_422_naming_field_paths(ingest: httpx.AsyncClient) -> None:
    body = event(4, country="XX")
    body["traveller"]["date_of_birth"] = "1985-02-30"
    body["extra"] = 1
    body["flags"] = []
    response = await ingest.post("/v1/events", json=body)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"country", "traveller.date_of_birth", "extra", "flags"} <= fields
    not_json = await ingest.post("/v1/events", content=b"{nope")
    assert not_json.status_code == 422
    assert not_json.json()["errors"][0]["rule"] == "json_invalid"


async def test_oversized_body_is_413_declared_or_streamed(ingest: httpx.AsyncClient) -> None:
    big = b'{"pad": "' + b"x" * 70_000 + b'"}'
    declared = await ingest.post("/v1/events", content=big)
    assert declared.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while reading
        for _ in range(10):
            yield b"x" * 10_000

    streamed = await ingest.post("/v1/events", content=chunks())
    assert streamed.status_code == 413


async def test_rate_limit_is_429_with_retry_after(ingest: httpx.AsyncClient) -> None:
    # The agency's bucket holds 50 events: a full batch of 20 three times overdraws it.
    bodies = [event(100 + i) for i in range(60)]
    statuses = []
    for start in range(0, 60, 20):
        response = await ingest.post(
            "/v1/events:batch", json={"events": bodies[start : start + 20]}
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) >= 1
    assert statuses[:2] == [202, 202]
    assert statuses[2] == 429


async def test_batch_gives_one_result_per_item_and_skips_resends(
    ingest: httpx.AsyncClient, topics: CommonSettings
) -> None:
    good = event(5, type="border_crossing", direction="exit")
    bad = event(6, country="NOPE")
    forbidden = event(7, country="UZB")
    response = await ingest.post("/v1/events:batch", json={"events": [good, bad, forbidden, good]})
    assert response.status_code == 207, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [202, 422, 403, 202]
    assert [r["outcome"] for r in results] == ["accepted", "rejected", "forbidden", "duplicate"]
    assert results[1]["errors"][0]["field"] == "country"
    again = await ingest.post("/v1/events", json=good)
    assert again.status_code == 202
    assert again.json()["outcome"] == "duplicate"
    records = await read_events(topics, "events.border_crossing", 1)
    await asyncio.sleep(0)  # nothing more may follow: read again with a second event as marker
    marker = event(8, type="border_crossing", direction="entry")
    assert (await ingest.post("/v1/events", json=marker)).status_code == 202
    records = await read_events(topics, "events.border_crossing", 2)
    assert sorted(decode_event(r.value).event_id for r in records) == sorted(
        [good["event_id"], marker["event_id"]]
    )
    too_many = await ingest.post("/v1/events:batch", json={"events": [good] * 21})
    assert too_many.status_code == 422


async def test_keys_rotate_without_restart(ingest: httpx.AsyncClient, agencies_file: Path) -> None:
    new_key = "rotated-kaz-key-9876543210"
    write_agencies(agencies_file, kaz_keys=[new_key], rate=50)
    os.utime(agencies_file, ns=(1, 2_000_000_000_000_000_000))  # a distinct mtime, surely
    old = await ingest.post("/v1/events", json=event(9))
    assert old.status_code == 401
    new = await ingest.post(
        "/v1/events", json=event(9), headers={"Authorization": f"Bearer {new_key}"}
    )
    assert new.status_code == 202, new.text
    agencies_file.write_text("agencies: [ {broken")  # noqa: ASYNC240 - a broken edit
    os.utime(agencies_file, ns=(1, 2_000_000_000_000_000_001))
    still = await ingest.post(
        "/v1/events", json=event(10), headers={"Authorization": f"Bearer {new_key}"}
    )
    assert still.status_code == 202


async def test_health_ready_metrics_openapi(ingest: httpx.AsyncClient) -> None:
    assert (await ingest.get("/healthz")).json()["status"] == "ok"
    ready = await ingest.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["conditions"]["kafka_connected"] == {
        "ok": True,
        "detail": "broker answered",
    }
    await ingest.post("/v1/events", json=event(11))
    metrics = await ingest.get("/metrics")
    assert "relay_ingest_events_total" in metrics.text
    assert "relay_last_event_timestamp_seconds{agency=" in metrics.text  # silent-agency alert
    doc = (await ingest.get("/openapi.json")).json()
    assert {"/v1/events", "/v1/events:batch", "/readyz"} <= set(doc["paths"])
    assert "EventIn" in doc["components"]["schemas"]


async def test_answers_are_the_documented_models(ingest: httpx.AsyncClient) -> None:
    """The event handlers write their JSON directly: it must be exactly what the models say."""
    body = next(e for e in (event(s) for s in range(60, 120)) if "document" in e)
    del body["traveller"]["sex"]  # filled from the MRZ: the answer carries a flag
    one = await ingest.post("/v1/events", json=body)
    assert one.status_code == 202, one.text
    assert one.json()["flags"] == [{"field": "traveller.sex", "reason": "filled from the MRZ"}]
    assert one.json() == Accepted.model_validate_json(one.content).model_dump(mode="json")
    events = [body, event(61, country="NOPE"), event(62, country="UZB"), {"x": 1}, event(63)]
    many = await ingest.post("/v1/events:batch", json={"events": events})
    assert many.status_code == 207, many.text
    answer = many.json()
    assert answer == BatchResult.model_validate_json(many.content).model_dump(mode="json")
    assert [r["outcome"] for r in answer["results"]] == [
        "duplicate", "rejected", "forbidden", "rejected", "accepted"
    ]  # fmt: skip
    assert (answer["accepted"], answer["rejected"]) == (2, 3)
    assert answer["results"][3]["event_id"] is None  # present, as null: the model's default
    doc = (await ingest.get("/openapi.json")).json()
    for path in ("/v1/events", "/v1/events:batch"):
        security = doc["paths"][path]["post"]["security"]
        assert security == [{"HTTPBearer": []}, {"APIKeyHeader": []}]
    assert set(doc["components"]["securitySchemes"]) == {"HTTPBearer", "APIKeyHeader"}
    assert (await ingest.get("/v1/events")).status_code == 405
