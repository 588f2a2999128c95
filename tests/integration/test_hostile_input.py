"""Hostile input on the whole relay: poison records on the raw intake and hostile watchlist
files. Nothing crashes a service or stalls a partition (a valid record sent after the poison
on the same partition still becomes an alert), and every poison record is dead-lettered with
a reason. (The HTTP API is fuzzed in test_ingest_fuzz.py.)"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from services.common.settings import CommonSettings
from services.demo.directory import INTAKE_SECRETS_FILE, load_api_keys
from services.demo.simulate import SimulationSpec, Simulator
from tests.support.evidence import expected_alerts, load_index
from tests.support.kafka_io import TopicReader, header_map, produce_signed
from tests.support.stack import RELAY, Stack, StackSpec, open_stack, start_all

pytestmark = [pytest.mark.faults, pytest.mark.timeout(400)]
KEY = "one-partition"  # every record on the same partition: a stall would show


@pytest.fixture
def stack(topics: CommonSettings, tmp_path: Path) -> Iterator[Stack]:
    with open_stack(StackSpec(topics.kafka_bootstrap, topics.topic_prefix), tmp_path) as built:
        start_all(built)
        built.ready()
        yield built


def _listed_events(stack: Stack, count: int) -> list[tuple[str, dict[str, Any]]]:
    lines = (stack.demo / "demo-watchlist.jsonl").read_bytes().splitlines()
    sim = Simulator(SimulationSpec(seed=5, listed_share=1.0, broken_share=0),
                    [orjson.loads(line) for line in lines])  # fmt: skip
    out: list[tuple[str, dict[str, Any]]] = []
    while len(out) < count:
        item = sim.next(dt.datetime.now(dt.UTC))
        if item.entry_id and isinstance(item.value, dict):
            out.append((item.agency, item.value))
    return out


def _renamed(event: dict[str, Any], tag: str, surname: str) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    changed["event_id"] = changed["event_id"][:-4] + tag
    changed["traveller"]["surname"] = surname
    return changed


def _poison(template: dict[str, Any]) -> list[tuple[str, bytes]]:
    """(what, raw bytes): each must be dead-lettered, none may stop the partition."""
    text = orjson.dumps(template).decode()
    nested = "[" * 100_000 + "]" * 100_000
    return [
        ("garbage bytes", bytes(range(256)) * 4),
        ("empty", b""),
        ("not an object", b"[1, 2, 3]"),
        ("truncated JSON", orjson.dumps(template)[:-7]),
        ("huge record", orjson.dumps({**template, "padding": "x" * 900_000})),
        ("latin-1", text.replace(template["traveller"]["surname"], "MÜLLÉR").encode("latin-1")),
        ("UTF-16", text.encode("utf-16")),
        ("deeply nested JSON", f'{{"event_id": "x", "nested": {nested}}}'.encode()),
        ("NUL bytes", b"\x00" * 1000),
    ]


def _odd_names(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Valid JSON with hostile names: accepted or refused, never a crash."""
    names = {
        "homoglyphs": "KНОLМАТОV",  # Cyrillic Н, О, М, А among Latin letters
        "zero-width": "KHOL\u200bMA\u200dTOV\ufeff",
        "RLO": "\u202eVOTAMLOHK",
        "HTML": "<script>alert(1)</script><img src=x onerror=alert(2)>",
        "SQL": "O'BRIEN'); DROP TABLE events;--",
    }
    return [(what, _renamed(template, f"{i:04d}", name)) for i, (what, name) in
            enumerate(names.items())]  # fmt: skip


async def test_poison_on_raw_intake_is_dead_lettered_and_the_partition_flows(
    stack: Stack, topics: CommonSettings
) -> None:
    (agency, template), (_, valid) = _listed_events(stack, 2)
    poison = _poison(template)
    odd = _odd_names(template)
    secret = load_api_keys(stack.demo / INTAKE_SECRETS_FILE)[agency]  # it signs its records
    valid["reported_by"] = agency
    valid["country"] = template["country"]
    records: list[tuple[str | None, Any]] = [(KEY, raw) for _, raw in poison]
    records += [(KEY, orjson.dumps(event)) for _, event in odd]
    records.append((KEY, orjson.dumps(valid)))
    await produce_signed(topics, topics.topic("ingest.raw"), records, agency, secret)

    async with TopicReader(topics, topics.topic("ingest.raw.dlq")) as dlq:
        await dlq.until(lambda r: len(r) >= len(poison), 90)
    reasons = [header_map(r).get("relay-dlq-reason", "") for r in dlq.records]
    assert all(reasons), f"a dead letter without a reason: {reasons}"
    assert len(dlq.records) <= len(poison) + len(odd), reasons

    want = expected_alerts(load_index(stack.demo / "demo-watchlist.jsonl"),
                           {valid["event_id"]: orjson.dumps(valid)})  # fmt: skip
    assert want, "the valid record after the poison matches no entry: it would prove nothing"
    async with TopicReader(topics, topics.topic("alerts")) as alerts:
        await alerts.until(lambda r: set(want) <= {orjson.loads(x.value)["alert_id"] for x in r},
                           90)  # fmt: skip
    assert not stack.dead(), [stack.processes[n].log() for n in stack.dead()]
    print(f"HOSTILE raw intake: {len(poison)} poison + {len(odd)} odd names tried, "
          f"{len(dlq.records)} dead-lettered, valid record after them alerted")  # fmt: skip


def _hostile_files(tmp: Path, good: bytes) -> dict[str, Path]:
    files = {
        "truncated JSON": good[: len(good) // 2],
        "nested bomb": b'{"entry_id": "X", "person": ' + b"[" * 50_000 + b"]" * 50_000 + b"}\n",
        "10 MB line": b'{"entry_id": "BIG", "list": "red_notice", "pad": "' + b"A" * 10_000_000
        + b'"}\n',
        "binary": bytes(range(256)) * 64,
        "UTF-16": good.decode().encode("utf-16"),
    }  # fmt: skip
    paths = {}
    for i, (what, content) in enumerate(files.items()):
        paths[what] = tmp / f"hostile-{i}.jsonl"
        paths[what].write_bytes(content)
    return paths


async def test_hostile_watchlist_files_are_refused_cleanly(
    stack: Stack, topics: CommonSettings
) -> None:
    good = b"".join((stack.demo / "demo-watchlist.jsonl").read_bytes().splitlines(True)[:3])
    async with TopicReader(topics, topics.topic("watchlist.entries")) as before:
        await before.until(lambda r: len(r) > 0, 30)
        count_before = await _settle(before)
    tried = 0
    for what, path in _hostile_files(stack.logs, good).items():
        result = await asyncio.to_thread(
            _relay_unchecked, stack, "watchlist", "load", str(path), "--format", "jsonl"
        )
        tried += 1
        assert result.returncode != 0, f"{what}: accepted"
        assert "Traceback" not in result.stderr, f"{what}: crashed:\n{result.stderr[-2000:]}"
    async with TopicReader(topics, topics.topic("watchlist.entries")) as after:
        assert await _settle(after) == count_before, "a hostile file published something"
    assert not stack.dead(), [stack.processes[n].log() for n in stack.dead()]
    print(f"HOSTILE watchlist files: {tried} tried, all refused, nothing published")


async def _settle(reader: TopicReader) -> int:
    """Records on the topic: read until a poll brings nothing new."""
    while True:
        batch = await reader.consumer.getmany(timeout_ms=1500)
        if not batch:
            return len(reader.records)
        for records in batch.values():
            reader.records.extend(records)


def _relay_unchecked(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RELAY, *args], env=stack.env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
