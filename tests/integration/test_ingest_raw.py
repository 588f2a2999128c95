"""The raw Kafka intake: fed by a Kafka client that is not ours (kcat, Debian's package) and
signed by a signer that is not ours (openssl, the README's recipe); a record is an event only
when it is signed by the agency it names, in time (issue 31, item 9)."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import re
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas.codec import decode_event
from schemas.headers import (
    H_AGENCY,
    H_FIELD,
    H_OFFSET,
    H_PARTITION,
    H_REASON,
    H_REPLAYED_FROM,
    H_TOPIC,
)
from schemas.intake import Refusal, signed_headers
from schemas.topics import TopicName
from services.common.kafka import make_consumer, make_producer, partitions_of
from services.common.settings import CommonSettings
from services.ingest.server import serving
from services.ingest.synthetic import make_event
from tests.integration.test_ingest_http import (
    KAZ_KEY,
    KAZ_SECRET,
    UZB_SECRET,
    ingest_settings,
    read_events,
    write_agencies,
)
from tests.support.broker import free_port

README = Path(__file__).resolve().parents[2] / "services" / "ingest" / "README.md"
HOUR = 3600


def kcat() -> str:
    """kcat's path, installing Debian's package when missing; skip only if that fails."""
    found = shutil.which("kcat")
    if found is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "kcat"], capture_output=True)
        found = shutil.which("kcat")
    if found is None:
        pytest.skip("kcat is not installed and apt-get could not install it (make kcat)")
    return found


def produce(settings: CommonSettings, value: bytes, key: bytes | None, *headers: str) -> None:
    """One record with kcat (a value per call: each has its own signature)."""
    command = [kcat(), "-b", settings.kafka_bootstrap, "-t", settings.topic("ingest.raw"), "-P"]
    command += ["-k", key.decode()] if key else []
    for header in headers:
        command += ["-H", header]
    result = subprocess.run(command, input=value + b"\n", capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()


def kcat_headers(agency: str, secret: str, key: bytes | None, value: bytes) -> list[str]:
    signed = signed_headers(agency, secret, key, value, int(time.time()))
    return [f"{name}={text.decode()}" for name, text in signed]


@pytest.fixture
async def raw_ingest(topics: CommonSettings, tmp_path: Path) -> AsyncIterator[CommonSettings]:
    agencies = tmp_path / "agencies.yaml"
    write_agencies(agencies, kaz_keys=[KAZ_KEY])
    config = ingest_settings(topics, agencies, ingest_raw_group=f"{topics.topic_prefix}raw")
    async with serving(config, free_port()):
        yield topics


def _headers(record: Any) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}


def crossing(rng: random.Random, **changes: Any) -> dict[str, Any]:
    return make_event(rng) | {"type": "border_crossing", "direction": "entry"} | changes


async def test_kcat_valid_records_become_canonical_broken_ones_dead_letter(
    raw_ingest: CommonSettings,
) -> None:
    rng = random.Random(7)
    valid = [crossing(rng) for _ in range(5)]
    wrong_country = make_event(rng) | {"country": "ZZZ"}
    forbidden = make_event(rng) | {"country": "UZB"}
    for i, body in enumerate([*valid, wrong_country, forbidden]):
        value, key = orjson.dumps(body), f"EVT-{i}".encode()
        produce(raw_ingest, value, key, *kcat_headers("KAZ-BORDER", KAZ_SECRET, key, value))
    produce(
        raw_ingest, b"{not json", None, *kcat_headers("KAZ-BORDER", KAZ_SECRET, None, b"{not json")
    )
    produce(raw_ingest, orjson.dumps(make_event(rng)), None)  # no relay-agency header

    canonical = await read_events(raw_ingest, "events.border_crossing", 5)
    assert sorted(decode_event(r.value).event_id for r in canonical) == sorted(
        b["event_id"] for b in valid
    )
    assert all(decode_event(r.value).received_at is not None for r in canonical)

    dead = await read_events(raw_ingest, "ingest.raw.dlq", 4)
    by_field = {_headers(r)[H_FIELD]: _headers(r) for r in dead}
    assert set(by_field) == {"(message)", "country", "headers.relay-agency"}
    assert by_field["(message)"][H_REASON].startswith("not JSON")
    reasons = sorted(_headers(r)[H_REASON] for r in dead if _headers(r)[H_FIELD] == "country")
    assert any("may not report" in reason for reason in reasons)
    assert any("alpha-3" in reason for reason in reasons)
    assert by_field["headers.relay-agency"][H_REASON] == "no relay-agency header"
    for record in dead:
        headers = _headers(record)
        assert headers[H_TOPIC] == raw_ingest.topic("ingest.raw")
        assert int(headers[H_PARTITION]) >= 0
        assert int(headers[H_OFFSET]) >= 0


def _recipe() -> str:
    """The shell recipe of services/ingest/README.md, as an operator would copy it."""
    found = re.search(r"Without Python.*?```sh\n(.*?)```", README.read_text(), re.DOTALL)
    assert found, "the README lost its signing recipe"
    return found.group(1)


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["bash", "-euc", script], cwd=cwd, env=env, capture_output=True)


async def test_the_readmes_openssl_recipe_signs_what_ingest_accepts(
    raw_ingest: CommonSettings, tmp_path: Path
) -> None:
    """Signed with the agency's secret: an event; with another agency's: a dead letter."""
    missing = [tool for tool in ("openssl", "xxd") if shutil.which(tool) is None]
    assert not missing, f"the recipe needs {missing}: `make kcat` installs them"
    rng = random.Random(8)
    script = _recipe().replace("-t ingest.raw", f"-t {raw_ingest.topic('ingest.raw')}")
    bodies = {KAZ_SECRET: crossing(rng), UZB_SECRET: crossing(rng)}
    for secret, body in bodies.items():
        (tmp_path / "event.json").write_bytes(orjson.dumps(body))
        env = {"SECRET": secret, "AGENCY": "KAZ-BORDER", "BROKER": raw_ingest.kafka_bootstrap,
               "PATH": f"{Path(kcat()).parent}:/usr/bin:/bin"}  # fmt: skip
        done = await asyncio.to_thread(_bash, script, tmp_path, env)
        assert done.returncode == 0, done.stderr.decode()
    [canonical] = await read_events(raw_ingest, "events.border_crossing", 1)
    assert decode_event(canonical.value).event_id == bodies[KAZ_SECRET]["event_id"]
    [dead] = await read_events(raw_ingest, "ingest.raw.dlq", 1)
    assert orjson.loads(dead.value)["event_id"] == bodies[UZB_SECRET]["event_id"]
    assert _headers(dead)[H_REASON] == Refusal.BAD_SIGNATURE.value
    assert await stored(raw_ingest, "events.border_crossing") == 1


# --- a record that is not bound to its agency never becomes an event --------------------------


@dataclasses.dataclass(frozen=True)
class Raw:
    """A record for ingest.raw: its value, headers and when it was written (Kafka timestamp)."""

    body: dict[str, Any]
    headers: Sequence[tuple[str, bytes]]
    written_ago_s: int = 0

    @property
    def value(self) -> bytes:
        return orjson.dumps(self.body)


KEY = b"EVT-9"


def signed(body: dict[str, Any], secret: str = KAZ_SECRET, signed_ago_s: int = 0) -> Raw:
    """``body`` signed as KAZ-BORDER (with ``secret``) ``signed_ago_s`` ago, written now."""
    stamp = int(time.time()) - signed_ago_s
    return Raw(body, signed_headers("KAZ-BORDER", secret, KEY, orjson.dumps(body), stamp))


async def send(settings: CommonSettings, records: Sequence[Raw]) -> None:
    async with make_producer(settings) as producer:
        for raw in records:
            written = int((time.time() - raw.written_ago_s) * 1000)
            await producer.send_and_wait(
                settings.topic("ingest.raw"), raw.value, key=KEY, headers=list(raw.headers),
                timestamp_ms=written,
            )  # fmt: skip


async def stored(settings: CommonSettings, topic: TopicName) -> int:
    """Records ever written to ``topic`` (the sum of its partitions' end offsets)."""
    async with make_consumer(settings, group_id=None) as consumer:
        ends = await consumer.end_offsets(await partitions_of(settings, settings.topic(topic)))
        return sum(ends.values())


async def assert_only_good_are_events(
    settings: CommonSettings, good: list[Raw], bad: list[tuple[Raw, Refusal, str]]
) -> None:
    """Every bad record dead-lettered with its reason and header, only the good ones events."""
    dead = await read_events(settings, "ingest.raw.dlq", len(bad))
    canonical = await read_events(settings, "events.border_crossing", len(good))
    seen = {orjson.loads(r.value)["event_id"]: _headers(r) for r in dead}
    for raw, refusal, header in bad:
        headers = seen[raw.body["event_id"]]
        assert headers[H_REASON].startswith(refusal.value), headers[H_REASON]
        assert headers[H_FIELD] == f"headers.{header}"
    assert {decode_event(r.value).event_id for r in canonical} == {r.body["event_id"] for r in good}
    assert await stored(settings, "events.border_crossing") == len(good)


def _forged(body: dict[str, Any]) -> Raw:
    """Signed with UZB-BORDER's secret, yet naming KAZ-BORDER (and reporting as it)."""
    return signed(body, secret=UZB_SECRET)


def _unsigned(body: dict[str, Any]) -> Raw:
    return Raw(body, [(H_AGENCY, b"KAZ-BORDER")])


def _tampered(body: dict[str, Any]) -> Raw:
    """Signed by KAZ-BORDER, then changed on the way (another traveller's date of birth)."""
    good = signed(body)
    changed = body | {"traveller": body["traveller"] | {"date_of_birth": "1970-01-01"}}
    return Raw(changed, good.headers)


def _stale(body: dict[str, Any]) -> Raw:
    return signed(body, signed_ago_s=HOUR)  # written now


@pytest.mark.parametrize(
    ("make", "refusal", "header"),
    [
        (_forged, Refusal.BAD_SIGNATURE, "relay-signature"),
        (_unsigned, Refusal.NO_SIGNATURE, "relay-signature"),
        (_tampered, Refusal.BAD_SIGNATURE, "relay-signature"),
        (_stale, Refusal.STALE, "relay-signature-timestamp"),
    ],
    ids=["claims-another-agency", "unsigned", "bad-signature", "stale-timestamp"],
)
async def test_a_record_not_signed_by_the_agency_it_names_is_dead_lettered(
    raw_ingest: CommonSettings, make: Any, refusal: Refusal, header: str
) -> None:
    rng = random.Random(header + refusal)
    bad = make(crossing(rng))
    good = signed(crossing(rng))  # after it on the same partition: nothing stalls
    await send(raw_ingest, [bad, good])
    await assert_only_good_are_events(raw_ingest, [good], [(bad, refusal, header)])


async def test_the_time_window_counts_from_when_the_record_was_written(
    raw_ingest: CommonSettings,
) -> None:
    """A backlog read late is in time, and so is a DLQ replay of an old record; a signature
    older than the record it signs is not, nor a replay older than the replay window."""
    rng = random.Random(10)
    backlog = dataclasses.replace(signed(crossing(rng), signed_ago_s=HOUR), written_ago_s=HOUR)
    replay = (H_REPLAYED_FROM, b"ingest.raw.dlq:0:7")
    replayed = signed(crossing(rng), signed_ago_s=HOUR)
    replayed = dataclasses.replace(replayed, headers=[*replayed.headers, replay])
    too_old = signed(crossing(rng), signed_ago_s=8 * 24 * HOUR)
    too_old = dataclasses.replace(too_old, headers=[*too_old.headers, replay])
    early = signed(crossing(rng), signed_ago_s=HOUR)
    await send(raw_ingest, [backlog, replayed, too_old, early])
    stale = "relay-signature-timestamp"
    await assert_only_good_are_events(
        raw_ingest,
        [backlog, replayed],
        [(too_old, Refusal.STALE, stale), (early, Refusal.STALE, stale)],
    )
