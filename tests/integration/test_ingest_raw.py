"""The raw Kafka intake, fed by a Kafka client that is not ours: kcat (Debian's package)."""

from __future__ import annotations

import random
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas.codec import decode_event
from services.common.fate import H_FIELD, H_OFFSET, H_PARTITION, H_REASON, H_TOPIC
from services.common.settings import CommonSettings
from services.ingest.server import serving
from services.ingest.synthetic import make_event
from tests.conftest import free_port
from tests.integration.test_ingest_http import KAZ_KEY, ingest_settings, read_events, write_agencies


def kcat() -> str:
    """kcat's path, installing Debian's package when missing; skip only if that fails."""
    found = shutil.which("kcat")
    if found is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "kcat"], capture_output=True)
        found = shutil.which("kcat")
    if found is None:
        pytest.skip("kcat is not installed and apt-get could not install it (make kcat)")
    return found


def produce(settings: CommonSettings, lines: list[bytes], *headers: str) -> None:
    command = [kcat(), "-b", settings.kafka_bootstrap, "-t", settings.topic("ingest.raw"), "-P"]
    for header in headers:
        command += ["-H", header]
    result = subprocess.run(
        command, input=b"\n".join(lines) + b"\n", capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode()


@pytest.fixture
async def raw_ingest(topics: CommonSettings, tmp_path: Path) -> AsyncIterator[CommonSettings]:
    agencies = tmp_path / "agencies.yaml"
    write_agencies(agencies, kaz_keys=[KAZ_KEY])
    config = ingest_settings(topics, agencies, ingest_raw_group=f"{topics.topic_prefix}raw")
    async with serving(config, free_port()):
        yield topics


def _headers(record: Any) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}


async def test_kcat_valid_records_become_canonical_broken_ones_dead_letter(
    raw_ingest: CommonSettings,
) -> None:
    rng = random.Random(7)
    valid = [make_event(rng) for _ in range(5)]
    for body in valid:
        body["type"], body["direction"] = "border_crossing", "entry"
    wrong_country = make_event(rng) | {"country": "ZZZ"}
    forbidden = make_event(rng) | {"country": "UZB"}
    produce(
        raw_ingest,
        [orjson.dumps(b) for b in valid]
        + [b"{not json", orjson.dumps(wrong_country), orjson.dumps(forbidden)],
        "relay-agency=KAZ-BORDER",
    )
    produce(raw_ingest, [orjson.dumps(make_event(rng))])  # no relay-agency header

    canonical = await read_events(raw_ingest, "events.border_crossing", 5)
    assert sorted(decode_event(r.value).event_id for r in canonical) == sorted(
        b["event_id"] for b in valid
    )
    assert all(decode_event(r.value).received_at is not None for r in canonical)

    dead = await read_events(raw_ingest, "ingest.raw.dlq", 4)
    by_field = {_headers(r)[H_FIELD]: _headers(r) for r in dead}
    assert set(by_field) == {"(message)", "country", "headers.relay-agency"}
    assert by_field["(message)"][H_REASON].startswith("not JSON")
    assert "country" in by_field["country"][H_REASON]
    reasons = sorted(_headers(r)[H_REASON] for r in dead if _headers(r)[H_FIELD] == "country")
    assert any("may not report" in reason for reason in reasons)
    assert any("alpha-3" in reason for reason in reasons)
    assert by_field["headers.relay-agency"][H_REASON] == "no relay-agency header"
    for record in dead:
        headers = _headers(record)
        assert headers[H_TOPIC] == raw_ingest.topic("ingest.raw")
        assert int(headers[H_PARTITION]) >= 0
        assert int(headers[H_OFFSET]) >= 0
