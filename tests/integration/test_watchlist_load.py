"""Watchlist loaders against the real broker: whole files, all-or-nothing, the real CLI."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest

from schemas.codec import decode_entry
from schemas.headers import H_SCHEMA
from schemas.watchlist import EntryStatus
from services.common import topic_read
from services.common.kafka import make_consumer, partitions_of
from services.common.settings import REPO_ROOT, CommonSettings
from services.watchlist.load import Format, parse, plan
from services.watchlist.parsed import LoadOptions
from services.watchlist.publish import TOPIC, current_entries, publish_entries

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "watchlist"
Records = dict[bytes, list[tuple[bytes | None, dict[str, bytes]]]]


async def read_topic(settings: CommonSettings, timeout_s: float = 60.0) -> Records:
    """Every record now on the topic, by key, in offset order (reads up to the end offsets)."""
    partitions = await partitions_of(settings, settings.topic(TOPIC))
    found: Records = {}
    async with make_consumer(settings, group_id=None) as consumer, asyncio.timeout(timeout_s):
        async for batch in topic_read.read(consumer, await topic_read.to_end(consumer, partitions)):
            for m in batch:
                found.setdefault(m.key, []).append((m.value, dict(m.headers)))
    return found


async def relay(settings: CommonSettings, *args: str) -> tuple[int, str, str]:
    """The real ``relay`` command in a child process, configured only by the environment."""
    env = {
        **os.environ,
        "RELAY_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "RELAY_TOPIC_PREFIX": settings.topic_prefix,
        "RELAY_LOG_FORMAT": "json",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli.main",
        *args,
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_dev_watchlist_loads_whole_keyed_by_entry_id(
    topics: CommonSettings, shared_data: Path
) -> None:
    text = (shared_data / "screening-dev" / "watchlist.jsonl").read_text(encoding="utf-8")
    started = time.perf_counter()
    result = plan(parse(Format.JSONL, text, LoadOptions()))
    parsed = time.perf_counter()
    published = await publish_entries(topics, result.entries)
    done = time.perf_counter()
    lines = sum(1 for line in text.split("\n") if line.strip())
    assert (len(result.entries), len(result.bad)) == (lines, 0)
    assert published.stored == lines
    assert published.failures == {}
    on_topic = await read_topic(topics)
    assert sum(len(v) for v in on_topic.values()) == lines
    assert set(on_topic) == {e.entry_id.encode() for e in result.entries}
    for key, [(value, headers)] in list(on_topic.items())[:500]:
        assert value is not None
        assert decode_entry(value).entry_id.encode() == key
        assert headers[H_SCHEMA] == b"entry/1"
    print(
        f"\nwatchlist load: {lines} entries, validate {parsed - started:.2f} s, "
        f"publish {done - parsed:.2f} s, {lines / (done - started):,.0f} entries/s overall"
    )


async def test_one_bad_record_publishes_nothing_and_skip_invalid_publishes_the_rest(
    topics: CommonSettings,
) -> None:
    bad_file = str(FIXTURES / "entries_bad.jsonl")
    code, out, err = await relay(topics, "watchlist", "load", bad_file, "--format", "jsonl")
    assert code == 1
    assert "line 1: person.date_of_birth" in out
    assert "line 2: document.issuing_state" in out
    assert "line 4: person" in out
    assert "nothing published: 3 bad record(s)" in err
    assert await read_topic(topics) == {}

    code, out, err = await relay(
        topics, "watchlist", "load", bad_file, "--format", "jsonl", "--skip-invalid"
    )
    assert code == 0, err
    assert "published 1/1" in out
    assert "skipped 3 invalid record(s)" in out
    on_topic = await read_topic(topics)
    assert list(on_topic) == [b"RED-2025-000403"]


async def test_cli_loads_each_format_and_dry_run_publishes_nothing(
    topics: CommonSettings,
) -> None:
    csv_file = str(FIXTURES / "sltd.csv")
    code, out, _ = await relay(topics, "watchlist", "load", csv_file, "-f", "sltd-csv", "--dry-run")
    assert code == 0
    assert await read_topic(topics) == {}

    code, out, err = await relay(topics, "watchlist", "load", csv_file, "-f", "sltd-csv", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["published"]["stored"] == 3
    ftm_file = str(FIXTURES / "ftm_persons.jsonl")
    code, out, err = await relay(
        topics, "watchlist", "load", ftm_file, "-f", "ftm", "--issuer", "BE", "--skip-invalid"
    )
    assert code == 0, err
    assert "1 ignored" in out
    on_topic = await read_topic(topics)
    assert set(on_topic) == {
        b"DOC-UZB-FA0000601",
        b"SLTD-CUSTOM-602",
        b"DOC-KGZ-AB0000603",
        b"os-test-0001",
        b"os-test-0003",
        b"os-test-0004",
    }
    value = on_topic[b"os-test-0001"][0][0]
    assert value is not None
    assert decode_entry(value).issuer == "BEL"


async def test_cancel_republishes_the_current_entry_cancelled_and_tombstone_deletes(
    topics: CommonSettings,
) -> None:
    text = (FIXTURES / "entries.jsonl").read_text(encoding="utf-8")
    entries = plan(parse(Format.JSONL, text, LoadOptions())).entries
    assert (await publish_entries(topics, entries)).stored == 3

    code, out, err = await relay(topics, "watchlist", "cancel", "RED-2025-000101")
    assert code == 0, err
    current = await current_entries(topics, ["RED-2025-000101", "YEL-2025-000303"])
    cancelled = current["RED-2025-000101"]
    assert cancelled is not None
    assert cancelled.status is EntryStatus.CANCELLED
    assert cancelled.model_copy(update={"status": EntryStatus.ACTIVE}) == entries[0]
    assert current["YEL-2025-000303"] == entries[2]  # untouched

    code, out, err = await relay(topics, "watchlist", "cancel", "RED-2025-000101")
    assert code == 0
    assert "already cancelled" in out

    code, _, err = await relay(topics, "watchlist", "cancel", "NO-SUCH-ENTRY")
    assert code == 1
    assert "NO-SUCH-ENTRY" in err

    code, out, err = await relay(topics, "watchlist", "cancel", "DOC-KAZ-N00000202", "--tombstone")
    assert code == 0, err
    records = await read_topic(topics)
    assert records[b"DOC-KAZ-N00000202"][-1][0] is None
    assert (await current_entries(topics, ["DOC-KAZ-N00000202"])) == {"DOC-KAZ-N00000202": None}


@pytest.mark.parametrize("issuer", ["ZZ"])
async def test_ftm_with_unknown_issuer_is_a_usage_error(
    topics: CommonSettings, issuer: str
) -> None:
    ftm_file = str(FIXTURES / "ftm_persons.jsonl")
    code, _, err = await relay(
        topics, "watchlist", "load", ftm_file, "-f", "ftm", "--issuer", issuer
    )
    assert code == 2
    assert "--issuer" in err
    code, _, err = await relay(topics, "watchlist", "load", ftm_file, "-f", "ftm")
    assert code == 2
    assert "--issuer" in err
    assert await read_topic(topics) == {}
