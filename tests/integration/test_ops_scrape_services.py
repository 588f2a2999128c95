"""A real Prometheus (Debian's, `make prometheus`) scrapes the three real services while
simulated traffic flows through them; what it stores matches what the test sent.

ingest (HTTP) -> events.* -> matcher -> alerts -> notifier -> demo receiver, each service
running as ``python -m services.X``; Prometheus scrapes their ``/metrics`` every second.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from services.common.health import KAFKA_CONNECTED, ReadyBody
from services.common.settings import CommonSettings
from tests.support.broker import free_port
from tests.support.stack import Stack, StackSpec, open_stack, start_all

pytestmark = pytest.mark.timeout(300)

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingest", "matcher", "notifier")


class Prometheus:
    def __init__(self, base: str) -> None:
        self.base = base

    def value(self, promql: str) -> float | None:
        """The single value of an instant query, None while there is none (or no server)."""
        try:
            response = httpx.get(f"{self.base}/api/v1/query", params={"query": promql}, timeout=5)
        except httpx.TransportError:
            return None  # still starting
        if response.status_code != 200:
            return None
        result = response.json()["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, promql: str, done: Callable[[float], bool], timeout_s: float = 60) -> float:
        """Poll until the query's value satisfies ``done``: Prometheus scrapes on its own clock."""
        deadline = time.monotonic() + timeout_s
        last: float | None = None
        while time.monotonic() < deadline:
            last = self.value(promql)
            if last is not None and done(last):
                return last
            time.sleep(0.5)  # an external process's 1 s scrape cycle: nothing to wait on
        raise TimeoutError(f"{promql}: last value {last}")


def _config(stack: Stack) -> str:
    jobs = "".join(
        f"  - job_name: {name}\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{stack.ports[name]}']}}]\n"
        for name in SERVICES
    )
    return f"global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nscrape_configs:\n{jobs}"


@pytest.fixture
def stack(topics: CommonSettings, tmp_path: Path) -> Iterator[Stack]:
    with open_stack(StackSpec(topics.kafka_bootstrap, topics.topic_prefix), tmp_path) as built:
        start_all(built)
        yield built


@pytest.fixture
def prometheus(stack: Stack, tmp_path: Path) -> Iterator[Prometheus]:
    assert PROMETHEUS, "prometheus is not installed: run `make prometheus`"
    config = tmp_path / "prometheus.yml"
    config.write_text(_config(stack))
    port = free_port()
    process = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield Prometheus(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(20)


def _simulate(stack: Stack) -> tuple[dict[str, int], set[str]]:
    """Post simulated traffic; the run's summary and the listed travellers' event ids."""
    sent = stack.logs / "sent.jsonl"
    result = stack.relay(
        "simulate", "--count", "200", "--rate", "200", "--listed-share", "0.1",
        "--broken-share", "0.1", "--url", stack.url("ingest", ""),
        "--keys", str(stack.demo / "api-keys.json"),
        "--watchlist", str(stack.demo / "demo-watchlist.jsonl"), "--record", str(sent),
    )  # fmt: skip
    summary: dict[str, int] = orjson.loads(result.stdout.strip().splitlines()[-1])
    records = [orjson.loads(line) for line in sent.read_bytes().splitlines()]
    return summary, {r["event_id"] for r in records if r["sort"].startswith("listed")}


def _wait_delivered(stack: Stack, listed: set[str], timeout_s: float = 60) -> None:
    """Wait until a webhook for every listed traveller reached the receiver."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        summary = stack.received()
        recent = summary["recent"]
        assert isinstance(recent, list)
        assert summary["rejected"] == 0, "the receiver rejected a signature"
        if listed <= {item.get("event_id") for item in recent}:
            return
        time.sleep(0.5)  # polling the receiver's counters, bounded by the deadline
    raise TimeoutError("listed travellers not delivered")


def test_prometheus_scrapes_all_three_services_and_sees_the_test_traffic(
    stack: Stack, prometheus: Prometheus
) -> None:
    stack.ready()
    for name in SERVICES:  # one readiness body everywhere
        body = ReadyBody.model_validate(httpx.get(stack.url(name, "/readyz"), timeout=5).json())
        assert body.ready, body
        assert body.conditions[KAFKA_CONNECTED].ok
    for job in SERVICES:  # all three targets up before any traffic
        prometheus.wait_for(f'up{{job="{job}"}}', lambda v: v == 1)
    summary, listed = _simulate(stack)
    assert summary["sent"] == 200
    assert summary["errors"] == 0
    assert summary["rejected"] >= 5
    assert len(listed) >= 10
    accepted = summary["accepted"]

    # ingest: every posted event counted in, accepted ones out, the rest as failures
    got_in = prometheus.wait_for('sum(relay_events_in_total{service="ingest"})', lambda v: v >= 200)
    assert got_in == 200
    assert prometheus.wait_for(
        'sum(relay_events_out_total{service="ingest"})', lambda v: v >= accepted
    ) == accepted  # fmt: skip
    assert prometheus.wait_for(
        'sum(relay_validation_failures_total{service="ingest"})',
        lambda v: v >= summary["rejected"],
    ) == summary["rejected"]  # fmt: skip

    # matcher: screened exactly the accepted events; its alerts are the ones it produced
    screened = prometheus.wait_for(
        'sum(relay_events_in_total{service="matcher"})', lambda v: v >= accepted
    )
    assert screened == accepted
    alerts = prometheus.wait_for("sum(relay_alerts_total)", lambda v: v >= len(listed))
    assert prometheus.value('sum(relay_events_out_total{service="matcher"})') == alerts
    assert prometheus.value("sum(relay_match_latency_seconds_count)") == accepted

    # notifier: its delivered webhooks are the ones the receiver accepted (both settle)
    _wait_delivered(stack, listed)
    delivered = prometheus.wait_for(
        'sum(relay_deliveries_total{channel="webhook", outcome="delivered"})',
        lambda v: v == stack.received()["received"],
    )
    assert delivered >= len(listed)


@pytest.mark.parametrize("command", ["check", "test"])
def test_promtool_accepts_the_alerting_rules(command: str) -> None:
    assert PROMTOOL, "promtool is not installed: run `make prometheus`"
    name = "rules.yml" if command == "check" else "rules_test.yml"
    result = subprocess.run(
        [PROMTOOL, command, "rules", str(REPO_ROOT / "deploy" / "prometheus" / name)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
