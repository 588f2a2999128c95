"""A real Prometheus (Debian's, `make prometheus`) scrapes a process exposing our metrics."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.exposition import start_http_server

from services.common.health import KAFKA_CONNECTED, Readiness, ops_app
from services.common.metrics import Metrics
from services.matcher.metrics import MatcherMetrics
from tests.support.broker import free_port

PROMETHEUS = shutil.which("prometheus")


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[tuple[str, MatcherMetrics]]:
    assert PROMETHEUS, "prometheus is not installed: run `make prometheus`"
    metrics = MatcherMetrics()
    exporter, thread = start_http_server(0, addr="127.0.0.1", registry=metrics.registry)
    target = f"127.0.0.1:{exporter.server_port}"
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: matcher\n    static_configs: [{{targets: ['{target}']}}]\n"
    )
    port = free_port()
    process = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}", metrics
    finally:
        process.terminate()
        process.wait(20)
        exporter.shutdown()
        exporter.server_close()
        thread.join(timeout=5)


async def _query(client: httpx.AsyncClient, base: str, promql: str) -> list[Any]:
    """Polls until the query has a result: Prometheus scrapes on its own clock (1 s here)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            response = await client.get(f"{base}/api/v1/query", params={"query": promql})
        except httpx.TransportError:
            response = None  # still starting
        if response is not None and response.status_code == 200:
            result: list[Any] = response.json()["data"]["result"]
            if result:
                return result
        await asyncio.sleep(0.5)  # no event to wait on: an external process's scrape cycle
    raise TimeoutError(promql)


async def test_prometheus_scrapes_the_standard_metrics(
    prometheus: tuple[str, MatcherMetrics],
) -> None:
    base, metrics = prometheus
    metrics.event_in("events.border_crossing", 7)
    metrics.alerts.labels(list="red_notice", band="strong").inc(2)
    metrics.match_latency.observe(0.004)
    metrics.set_lag([("events.border_crossing", 0, 42)])
    async with httpx.AsyncClient(timeout=5) as client:
        [events] = await _query(
            client, base, 'relay_events_in_total{topic="events.border_crossing"}'
        )
        assert events["value"][1] == "7"
        [alerts] = await _query(client, base, "relay_alerts_total")
        assert alerts["metric"]["band"] == "strong"
        assert alerts["value"][1] == "2"
        [lag] = await _query(client, base, "relay_consumer_lag")
        assert lag["value"][1] == "42"
        [count] = await _query(client, base, "relay_match_latency_seconds_count")
        assert count["value"][1] == "1"


async def test_ops_app_serves_metrics_and_readiness() -> None:
    readiness = Readiness("index_ready")
    metrics = Metrics(service="matcher")
    metrics.dead_lettered("events.dlq")
    transport = httpx.ASGITransport(app=ops_app(readiness, metrics))
    async with httpx.AsyncClient(transport=transport, base_url="http://matcher") as client:
        assert (await client.get("/healthz")).status_code == 200
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["conditions"]["index_ready"]["ok"] is False
        readiness.set(KAFKA_CONNECTED, True)
        readiness.set("index_ready", True)
        assert (await client.get("/readyz")).status_code == 200
        text = (await client.get("/metrics")).text
        assert 'relay_dead_letters_total{service="matcher",topic="events.dlq"} 1.0' in text
