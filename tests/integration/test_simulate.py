"""The simulator against a real broker and a real ingest; the demo receiver over real HTTP."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import orjson
import uvicorn

from schemas.headers import H_AGENCY, H_SIGNATURE, H_SIGNATURE_TIMESTAMP
from schemas.intake import decode_secret, signature_matches, signed_content
from services.common.settings import CommonSettings
from services.demo.directory import DemoPaths, init_demo, load_api_keys, receiver_secrets
from services.demo.receiver import ReceiverState, make_app
from services.demo.watchlist_gen import WatchlistSpec
from services.notifier.domain.signing import signature_headers
from tests.support.broker import free_port
from tests.support.kafka_io import TopicReader, header_map
from tests.support.process import ServiceProcess


def _relay(args: list[str], settings: CommonSettings, timeout_s: float = 120) -> str:
    env = {**os.environ, "RELAY_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
           "RELAY_TOPIC_PREFIX": settings.topic_prefix}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        env=env, capture_output=True, timeout=timeout_s,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return done.stdout.decode().strip().splitlines()[-1]


async def test_simulate_produces_to_ingest_raw(topics: CommonSettings, tmp_path: Path) -> None:
    init_demo(tmp_path, "http://127.0.0.1:1", WatchlistSpec(persons=200, sltd=300))
    paths = DemoPaths(tmp_path)
    args = ["simulate", "--target", "kafka", "--count", "200", "--rate", "400",
            "--listed-share", "0.1", "--broken-share", "0.1", "--seed", "9",
            "--watchlist", str(paths.watchlist),
            "--intake-secrets", str(paths.intake_secrets)]  # fmt: skip
    summary = orjson.loads(await asyncio.to_thread(_relay, args, topics))
    assert summary["sent"] == 200
    assert summary["accepted"] == 200
    assert summary["errors"] == 0
    assert summary["sorts"]["listed_person"] + summary["sorts"]["listed_document"] > 5
    async with TopicReader(topics, topics.topic("ingest.raw")) as reader:
        records = await reader.until(lambda seen: len(seen) >= 200, timeout_s=60)
    assert len(records) == 200
    agencies = Counter(header_map(r)["relay-agency"] for r in records)
    assert all(a.endswith(("-BORDER", "-POLICE")) for a in agencies)
    secrets = load_api_keys(paths.intake_secrets)
    for record in records:  # each signed as the agency it names, garbage too
        headers = header_map(record)
        agency, stamp = headers[H_AGENCY], headers[H_SIGNATURE_TIMESTAMP]
        content = signed_content(agency, record.key, stamp, record.value or b"")
        key = decode_secret(secrets[agency])
        assert signature_matches(headers[H_SIGNATURE], content, [key])
    events = []
    for record in records:
        try:
            events.append(orjson.loads(record.value or b""))
        except orjson.JSONDecodeError:
            assert summary["sorts"]["broken"] > 0  # garbage bytes are a broken share
    keyed = [r for r in records if r.key]
    assert len(keyed) >= 190  # key = the agency's event id, except garbage and bad ids


async def test_simulate_over_http_into_real_ingest(topics: CommonSettings, tmp_path: Path) -> None:
    init_demo(tmp_path, "http://127.0.0.1:1", WatchlistSpec(persons=200, sltd=300))
    paths = DemoPaths(tmp_path)
    port = free_port()
    ingest = ServiceProcess("services.ingest", {
        "RELAY_KAFKA_BOOTSTRAP": topics.kafka_bootstrap, "RELAY_TOPIC_PREFIX": topics.topic_prefix,
        "RELAY_INGEST_HTTP_PORT": str(port), "RELAY_INGEST_AGENCIES_FILE": str(paths.agencies),
        "RELAY_INGEST_RAW_ENABLED": "false", "RELAY_LOG_FORMAT": "json",
    }, tmp_path / "ingest.log").start()  # fmt: skip
    try:
        await asyncio.to_thread(ingest.wait_http, f"http://127.0.0.1:{port}/readyz")
        args = ["simulate", "--count", "300", "--rate", "300", "--broken-share", "0.1",
                "--listed-share", "0.05", "--url", f"http://127.0.0.1:{port}",
                "--watchlist", str(paths.watchlist), "--keys", str(paths.api_keys)]  # fmt: skip
        summary = orjson.loads(await asyncio.to_thread(_relay, args, topics))
    finally:
        ingest.stop()
    broken = summary["sorts"].get("broken", 0)
    assert summary["sent"] == 300, ingest.log()
    assert summary["errors"] == 0, ingest.log()
    assert broken > 10
    # every broken record fails validation except a bad MRZ check digit: ingest stores that
    # one and flags it, so rejections are at most the broken share and at least most of it
    assert summary["accepted"] + summary["rejected"] == 300
    assert 0.5 * broken <= summary["rejected"] <= broken, summary


@asynccontextmanager
async def running_receiver(state: ReceiverState) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(make_app(state), port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())

    async def started() -> None:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no started event
            await asyncio.sleep(0.02)

    await asyncio.wait_for(started(), timeout=20)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)


async def test_receiver_accepts_signed_and_rejects_tampered(tmp_path: Path) -> None:
    init_demo(tmp_path, "http://127.0.0.1:8099", WatchlistSpec(persons=1, sltd=1))
    secrets = receiver_secrets(DemoPaths(tmp_path).contact_points)
    lines: list[str] = []
    state = ReceiverState(secrets, out=lines.append)
    why = {"field": "surname", "event": "KHOLMATOV", "entry": "Холматов", "how": "spelling"}
    alert = {"alert_id": "a-1", "event_id": "e-1", "entry_id": "RED-1", "list": "red_notice",
             "band": "strong", "explanation": [why]}  # fmt: skip
    body = orjson.dumps({"type": "alert.created", "data": {"alert": alert}})
    now = int(time.time())
    good = signature_headers("msg_1", now, body, secrets["KAZ"])
    async with running_receiver(state) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.post("/hooks/KAZ", content=body, headers=good)).status_code == 204
        assert (await client.post("/hooks/KAZ", content=body, headers=good)).status_code == 204
        tampered = body.replace(b"RED-1", b"RED-2")
        assert (await client.post("/hooks/KAZ", content=tampered, headers=good)).status_code == 401
        # signed for Kazakhstan, sent to Uzbekistan's endpoint: another secret
        assert (await client.post("/hooks/UZB", content=body, headers=good)).status_code == 401
        wrong = "whsec_" + base64.b64encode(b"not the demo secret, no!").decode()
        forged = signature_headers("msg_3", now, body, (wrong,))
        assert (await client.post("/hooks/KAZ", content=body, headers=forged)).status_code == 401
        stale = signature_headers("msg_4", now - 3600, body, secrets["KAZ"])
        assert (await client.post("/hooks/KAZ", content=body, headers=stale)).status_code == 401
        received = (await client.get("/received")).json()
    assert received["received"] == 2
    assert received["unique"] == 1
    assert received["duplicates"] == 1
    assert received["by_id"] == {"msg_1": 2}
    assert received["rejected"] == 4
    assert received["recent"][0]["entry_id"] == "RED-1"
    assert sum("RED-1" in line for line in lines) == 2
    assert not any("KHOLMATOV" in line for line in lines)
