"""Attacks on the HTTP servers themselves (real sockets, real broker): half-open connections,
slow bodies, forwarded-for spoofing and clients that hang up mid-body."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator, MutableMapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from structlog.testing import LogCapture

from services.common.settings import CommonSettings
from services.ingest.server import serving
from services.notifier.app import NotifierApp
from tests.integration.test_ingest_http import KAZ_KEY, event, ingest_settings, write_agencies
from tests.support.broker import free_port
from tests.support.notifier_harness import notifier_settings

HALF_OPEN = 1000


@asynccontextmanager
async def half_open(
    port: int, count: int, first_bytes: bytes
) -> AsyncIterator[list[asyncio.StreamReader]]:
    """``count`` connections that each send ``first_bytes`` and then nothing."""
    pairs = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(first_bytes)
        pairs.append((reader, writer))
    await asyncio.gather(*(w.drain() for _, w in pairs))
    try:
        yield [r for r, _ in pairs]
    finally:
        for _, writer in pairs:
            writer.close()


async def _closed(reader: asyncio.StreamReader) -> bool:
    """True once the server has closed the connection (EOF or reset)."""
    try:
        while await reader.read(1024):
            pass
    except ConnectionError:
        pass
    return True


async def test_notifier_stays_ready_under_a_thousand_half_open_connections(
    topics: CommonSettings, console_directory_path: Path
) -> None:
    settings = notifier_settings(topics, console_directory_path, http_header_timeout_s=2.0)
    async with NotifierApp(settings) as app:
        partial = b"GET /readyz HTTP/1.1\r\nHost: x\r\nX-Slow: "
        async with half_open(app.port, HALF_OPEN, partial) as readers:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.port}") as client:
                started = time.monotonic()
                ready = await asyncio.wait_for(client.get("/readyz"), 1.0)
                assert ready.status_code == 200
                assert time.monotonic() - started < 1.0
            # The ones left are cut at the header deadline, not kept for ever.
            closed = await asyncio.wait_for(asyncio.gather(*map(_closed, readers[-5:])), 10)
            assert all(closed)


async def test_ingest_takes_a_real_event_under_a_thousand_half_open_connections(
    topics: CommonSettings, tmp_path: Path
) -> None:
    agencies = tmp_path / "agencies.yaml"
    write_agencies(agencies, kaz_keys=[KAZ_KEY], rate=50)
    config = ingest_settings(topics, agencies, ingest_raw_enabled=False, http_body_timeout_s=2.0)
    port = free_port()
    async with serving(config, port) as url, httpx.AsyncClient(base_url=url) as client:
        # Headers complete, body promised and never sent: the slow-body attack.
        slow = b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"
        partial = b"POST /v1/events HTTP/1.1\r\nHo"
        async with (
            half_open(port, HALF_OPEN // 2, slow) as slow_readers,
            half_open(port, HALF_OPEN // 2, partial),
        ):
            started = time.monotonic()
            ready = await asyncio.wait_for(client.get("/readyz"), 1.0)
            sent = await asyncio.wait_for(
                client.post("/v1/events", json=event(7), headers={"X-API-Key": KAZ_KEY}), 1.0
            )
            assert (ready.status_code, sent.status_code) == (200, 202)
            assert time.monotonic() - started < 1.0
            closed = await asyncio.wait_for(asyncio.gather(*map(_closed, slow_readers[-5:])), 10)
            assert all(closed)


async def test_forwarded_for_is_not_believed_so_rotating_it_does_not_escape_the_throttle(
    topics: CommonSettings, console_directory_path: Path
) -> None:
    async with (
        NotifierApp(notifier_settings(topics, console_directory_path)) as app,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.port}") as client,
    ):
        statuses = []
        for i in range(30):
            spoofed = {"X-Forwarded-For": f"203.0.113.{i}"}
            answer = await client.post(
                "/console/api/session",
                json={"account": f"wrong-{i}", "password": "guess"},
                headers=spoofed,
            )
            statuses.append(answer.status_code)
    assert statuses[:10] == [401] * 10
    assert set(statuses[10:]) == {429}


@contextmanager
def logging_of(name: str) -> Iterator[tuple[list[MutableMapping[str, Any]], asyncio.Event]]:
    """Every log entry while inside (as ``structlog.testing.capture_logs``), and an event set
    when one named ``name`` is logged, so a test can wait for that line itself."""
    seen, capture = asyncio.Event(), LogCapture()

    def note(logger: Any, method: str, entry: MutableMapping[str, Any]) -> Any:
        if entry.get("event") == name:
            seen.set()
        return capture(logger, method, entry)

    processors = structlog.get_config()["processors"]
    structlog.configure(processors=[note])
    try:
        yield capture.entries, seen
    finally:
        structlog.configure(processors=processors)


async def _hang_up_mid_body(port: int, head: str, logged: asyncio.Event) -> None:
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f'{head}Content-Length: 1000\r\n\r\n{{"a'.encode())
    await writer.drain()
    writer.close()
    await asyncio.wait_for(logged.wait(), 5)


@pytest.mark.parametrize("service", ["ingest", "notifier"])
async def test_a_client_hanging_up_mid_body_is_no_error(
    service: str,
    topics: CommonSettings,
    tmp_path: Path,
    console_directory_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    agencies = tmp_path / "agencies.yaml"
    write_agencies(agencies, kaz_keys=[KAZ_KEY], rate=50)
    with logging_of("http.client_disconnected") as (events, gone_logged):
        if service == "ingest":
            port = free_port()
            config = ingest_settings(topics, agencies, ingest_raw_enabled=False)
            async with serving(config, port):
                head = f"POST /v1/events HTTP/1.1\r\nHost: x\r\nX-API-Key: {KAZ_KEY}\r\n"
                await _hang_up_mid_body(port, head, gone_logged)
        else:
            async with NotifierApp(notifier_settings(topics, console_directory_path)) as app:
                head = "POST /console/api/session HTTP/1.1\r\nHost: x\r\n"
                await _hang_up_mid_body(
                    app.port, head + "Content-Type: application/json\r\n", gone_logged
                )
    [gone] = [e for e in events if e["event"] == "http.client_disconnected"]
    assert gone["log_level"] == "info"
    assert "exc_info" not in gone
    assert "Exception in ASGI application" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_odd_bytes_in_ingest_credentials_give_401_never_500(
    topics: CommonSettings, tmp_path: Path
) -> None:
    agencies = tmp_path / "agencies.yaml"
    write_agencies(agencies, kaz_keys=[KAZ_KEY], rate=50)
    config = ingest_settings(topics, agencies, ingest_raw_enabled=False)
    async with serving(config, free_port()) as url, httpx.AsyncClient(base_url=url) as client:
        for odd in (b"\xe9", b"\xc2\xb2", b"\x7f", "é".encode() * 40, b"Bearer \xe9"):
            for headers in (
                {b"x-api-key": odd},
                {b"authorization": b"Bearer " + odd},
                {b"authorization": odd},
            ):
                answer = await client.post("/v1/events", json=event(3), headers=headers)
                # 400: the HTTP parser itself refuses a control byte in a header
                assert answer.status_code in (400, 401), (odd, headers, answer.status_code)
