"""schemathesis against the OpenAPI document and hypothesis-made bodies, on the real service.

The service runs as it does in production: ``python -m services.ingest`` in its own process,
configured by environment, on a free port, talking to the test broker.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.common.settings import REPO_ROOT, CommonSettings
from services.ingest.synthetic import make_event
from tests.integration.test_ingest_http import KAZ_KEY, write_agencies
from tests.support.broker import free_port


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ingest exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError("ingest did not become ready")


@pytest.fixture
def service(topics: CommonSettings, tmp_path: Path) -> Iterator[str]:
    agencies = tmp_path / "agencies.yaml"
    write_agencies(agencies, kaz_keys=[KAZ_KEY])
    port = free_port()
    env = {
        **os.environ,
        "RELAY_KAFKA_BOOTSTRAP": topics.kafka_bootstrap,
        "RELAY_TOPIC_PREFIX": topics.topic_prefix,
        "RELAY_INGEST_HTTP_PORT": str(port),
        "RELAY_INGEST_AGENCIES_FILE": str(agencies),
        "RELAY_INGEST_RAW_ENABLED": "false",
        "RELAY_INGEST_RATE_PER_S": "100000",
        "RELAY_INGEST_RATE_BURST": "100000",
        "RELAY_LOG_LEVEL": "warning",
    }
    log = (tmp_path / "ingest.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "services.ingest"], env=env, cwd=REPO_ROOT, stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(30)
        log.close()
        text = (tmp_path / "ingest.log").read_text(errors="replace")
        assert "Traceback" not in text, text[-3000:]


def test_schemathesis_finds_no_5xx_and_no_schema_violation(service: str) -> None:
    st_cli = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st_cli is not None, "schemathesis is a dev dependency: pip install -e '.[dev]'"
    # positive_data_acceptance is left out: a JSON Schema cannot say everything the models
    # check (a calendar date, the list of country codes, agency rights), so some schema-valid
    # events are rightly refused with 422 or 403.
    result = subprocess.run(
        [st_cli, "run", f"{service}/openapi.json", "-H", f"X-API-Key: {KAZ_KEY}",
         "--exclude-checks", "positive_data_acceptance", "--max-examples", "60",
         "--seed", "1", "--workers", "2", "--no-color"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:]
    assert " passed" in result.stdout.split("SUMMARY")[-1], result.stdout[-3000:]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event with some fields replaced by arbitrary JSON or removed."""
    event = make_event(random.Random(draw(st.integers(0, 10_000))))
    for _ in range(draw(st.integers(1, 3))):
        target: dict[str, Any] = event
        # An earlier round may have replaced a part by a non-object or emptied it.
        if isinstance(event.get("document"), dict) and draw(st.booleans()):
            target = event["document"]
        elif isinstance(event.get("traveller"), dict) and draw(st.booleans()):
            target = event["traveller"]
        if not target:
            break
        key = draw(st.sampled_from(sorted(target)))
        if draw(st.booleans()):
            target[key] = draw(_json)
        else:
            del target[key]
    return event


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.one_of(_json, mutated_events()), batch=st.booleans())
def test_hypothesis_bodies_never_crash_the_service(service: str, body: Any, batch: bool) -> None:
    path, payload = ("/v1/events:batch", {"events": [body]}) if batch else ("/v1/events", body)
    response = httpx.post(
        f"{service}{path}",
        content=json.dumps(payload),
        headers={"X-API-Key": KAZ_KEY},
        timeout=30,
    )
    assert response.status_code in {202, 207, 403, 422}, response.text
    answer = response.json()
    if response.status_code == 422 and "errors" in answer:
        assert all(error["field"] for error in answer["errors"])
