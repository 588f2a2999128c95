"""A real service dead-letters records, an operator fixes the cause, replays them with
``relay dlq replay``, and the same service then processes them.

ingest runs as ``python -m services.ingest``. Raw records on ``ingest.raw`` from an agency the
agencies file does not know, and from a known agency reporting for a country it may not,
land in ``ingest.raw.dlq``. The agencies file is then fixed in place (ingest reloads it
without a restart); the replay puts both back on ``ingest.raw`` with the original and the
replay headers, and they come out canonical on ``events.border_crossing``.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas.codec import decode_event
from schemas.headers import H_AGENCY, H_REASON, H_REPLAY_COUNT, H_REPLAYED_AT, H_REPLAYED_FROM
from schemas.intake import new_secret, signed_headers
from schemas.topics import TopicName
from services.common.kafka import make_consumer, make_producer, partitions_of
from services.common.settings import CommonSettings
from services.ingest.domain.agencies import hash_key
from services.ingest.synthetic import make_event
from tests.integration.test_ingest_http import read_events
from tests.support.broker import free_port
from tests.support.process import ServiceProcess

pytestmark = pytest.mark.timeout(240)

SECRETS = {"KAZ-BORDER": new_secret(), "UZB-BORDER": new_secret()}  # intake: each signs with its
KAZ = {"id": "KAZ-BORDER", "countries": ["KAZ"], "key_sha256": [hash_key("kaz-key-0123456789")],
       "intake_secrets": [SECRETS["KAZ-BORDER"]]}  # fmt: skip
UZB = {"id": "UZB-BORDER", "countries": ["UZB"], "key_sha256": [hash_key("uzb-key-0123456789")],
       "intake_secrets": [SECRETS["UZB-BORDER"]]}  # fmt: skip


def write_agencies(path: Path, agencies: list[dict[str, Any]]) -> None:
    """Replace the file atomically, as an operator's deploy would (JSON is YAML)."""
    scratch = path.with_suffix(".new")
    scratch.write_bytes(orjson.dumps({"agencies": agencies}))
    scratch.replace(path)


@pytest.fixture
def ingest(topics: CommonSettings, tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    agencies = tmp_path / "agencies.yaml"
    write_agencies(agencies, [KAZ])  # UZB-BORDER not yet registered
    port = free_port()
    env = {
        "RELAY_KAFKA_BOOTSTRAP": topics.kafka_bootstrap,
        "RELAY_TOPIC_PREFIX": topics.topic_prefix,
        "RELAY_INGEST_HTTP_PORT": str(port),
        "RELAY_INGEST_AGENCIES_FILE": str(agencies),
        "RELAY_INGEST_RAW_GROUP": f"{topics.topic_prefix}ingest-raw",
        "RELAY_LOG_FORMAT": "json",
    }
    process = ServiceProcess("services.ingest", env, tmp_path / "ingest.log").start()
    try:
        process.wait_http(f"http://127.0.0.1:{port}/readyz", 90)
        yield {**process.env}, agencies
    finally:
        process.stop()


def relay(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result


async def _end(settings: CommonSettings, topic: TopicName) -> int:
    """Records ever written to ``topic`` (the sum of its partitions' end offsets)."""
    async with make_consumer(settings, group_id=None) as consumer:
        ends = await consumer.end_offsets(await partitions_of(settings, settings.topic(topic)))
        return sum(ends.values())


def _headers(record: Any) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}


def _crossing(rng: random.Random, *, country: str, reported_by: str) -> dict[str, Any]:
    body = make_event(rng, country=country, reported_by=reported_by)
    body["type"], body["direction"] = "border_crossing", "entry"
    return body


async def _produce(
    settings: CommonSettings, bodies: list[tuple[str, dict[str, Any]]], age_s: int = 0
) -> None:
    """Signed by their agencies, and written (Kafka timestamp) ``age_s`` ago, when signed."""
    async with make_producer(settings) as producer:
        for agency, body in bodies:
            value = orjson.dumps(body)
            signed = int(time.time()) - age_s
            await producer.send_and_wait(
                settings.topic("ingest.raw"),
                value,
                timestamp_ms=signed * 1000,
                headers=signed_headers(agency, SECRETS[agency], None, value, signed),
            )


async def test_dead_lettered_raw_records_are_replayed_after_the_fix_and_processed(
    topics: CommonSettings, ingest: tuple[dict[str, str], Path]
) -> None:
    env, agencies = ingest
    rng = random.Random(11)
    control = _crossing(rng, country="KAZ", reported_by="KAZ-BORDER")
    unknown = _crossing(rng, country="UZB", reported_by="UZB-BORDER")
    foreign = _crossing(rng, country="UZB", reported_by="KAZ-BORDER")
    # UZB-BORDER's record was written an hour before the fix: its replay, signed an hour
    # before it is written again, passes within the replay window (not the 300 s tolerance).
    await _produce(topics, [("UZB-BORDER", unknown)], age_s=3600)
    await _produce(topics, [("KAZ-BORDER", foreign), ("KAZ-BORDER", control)])

    # the control record goes through; the other two are dead-lettered, with their reasons
    [first] = await read_events(topics, "events.border_crossing", 1)
    assert decode_event(first.value).event_id == control["event_id"]
    dead = await read_events(topics, "ingest.raw.dlq", 2)
    reasons = sorted(_headers(r)[H_REASON] for r in dead)
    assert reasons[1] == "unknown agency"
    assert "may not report" in reasons[0]

    dry = json.loads(relay(env, "dlq", "replay", "ingest.raw.dlq", "--dry-run", "--json").stdout)
    assert dry["dry_run"] is True
    assert dry["replayed"] == 2

    # the fix: UZB-BORDER registered, KAZ-BORDER may now report for UZB; no restart
    write_agencies(agencies, [KAZ | {"countries": ["KAZ", "UZB"]}, UZB])
    done = json.loads(relay(env, "dlq", "replay", "ingest.raw.dlq", "--json").stdout)
    assert done["replayed"] == 2

    canonical = await read_events(topics, "events.border_crossing", 3)
    by_id = {decode_event(r.value).event_id: r for r in canonical}
    assert set(by_id) == {control["event_id"], unknown["event_id"], foreign["event_id"]}
    assert _headers(by_id[unknown["event_id"]])[H_AGENCY] == "UZB-BORDER"
    assert _headers(by_id[foreign["event_id"]])[H_AGENCY] == "KAZ-BORDER"
    assert decode_event(by_id[foreign["event_id"]].value).country == "UZB"

    # what ingest consumed the second time: the original records plus the replay headers
    raw = await read_events(topics, "ingest.raw", 5)
    replays = [_headers(r) for r in raw if H_REPLAYED_FROM in _headers(r)]
    assert len(replays) == 2
    dlq_topic = topics.topic("ingest.raw.dlq")
    assert {h[H_REPLAYED_FROM] for h in replays} == {
        f"{dlq_topic}:{r.partition}:{r.offset}" for r in dead
    }
    assert all(h[H_REPLAY_COUNT] == "1" and h[H_REPLAYED_AT] for h in replays)
    assert sorted(h[H_AGENCY] for h in replays) == ["KAZ-BORDER", "UZB-BORDER"]

    # processed, not dead-lettered again; and the replay group does not send them twice
    again = json.loads(relay(env, "dlq", "replay", "ingest.raw.dlq", "--json").stdout)
    assert again["replayed"] == 0
    assert await _end(topics, "ingest.raw.dlq") == 2
