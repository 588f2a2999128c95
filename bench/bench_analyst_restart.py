"""Analyst restart benchmark: the whole history replayed versus a start from the state snapshot.

The simulator's traffic of ``make bench-leads`` (``BENCH_LEADS_EVENTS``, 200,000 by default,
over 60 days, planted patterns, the matcher's hits) is written straight into
``analyst.sightings`` as the copier would have written it (events, and each alert's hit),
all but the last ``BENCH_RESTART_TAIL`` events. Then ``python -m services.analyst`` with an
``analyst_state_dir``:

1. a first start finds no snapshot and replays the whole history (``full_replay_s``: process
   start to ``/readyz``), writes a snapshot, and is stopped with SIGTERM (``stop_s``: it
   writes its final snapshot first);
2. the tail is written (what arrived while it was down);
3. a second start loads the snapshot and replays the tail only (``snapshot_start_s``,
   ``records_replayed``).

Each start also as the CPU seconds of the process by ``/readyz`` (``*_cpu_s``): the wall-clock
figures depend on what else the machine runs.

Run: ``make bench-analyst-restart``. The last line printed is one JSON object (also
``bench/results/analyst_restart.json``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench.bench_leads import DAYS, Traffic, facts, simulate, start_analyst, stop_process
from bench.support import bench_broker, cpu_seconds, create_topics, free_port, write_result
from services.analyst.handlers import EVENT_HEADER, HIT_HEADER, hit_value
from services.common.kafka import make_producer
from services.common.settings import CommonSettings

TAIL = int(os.environ.get("BENCH_RESTART_TAIL", "2000"))


def start(settings: CommonSettings, state: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    return start_analyst(settings, port, log, {"RELAY_ANALYST_STATE_DIR": str(state)})


async def write_history(settings: CommonSettings, traffic: Traffic, part: slice) -> int:
    """The events of ``part`` (and their hits) into the history topic; the records written."""
    topic = settings.topic("analyst.sightings")
    written = 0
    async with make_producer(settings, linger_ms=20) as producer:
        for event, value in zip(traffic.decoded[part], traffic.events[part], strict=True):
            await producer.send(topic, value, headers=[EVENT_HEADER])
            for alert in traffic.alerts.get(event.event_id, []):
                await producer.send(topic, hit_value(alert), headers=[HIT_HEADER])
                written += 1
            written += 1
        await producer.flush()
    return written


async def ready_after(settings: CommonSettings, state: Path, log: Path) -> tuple[Any, ...]:
    """Start an analyst; (its process, seconds to /readyz, its CPU seconds by then (what a
    shared machine does not change), its /readyz body)."""
    port = free_port()
    started = time.perf_counter()
    process = start(settings, state, port, log)
    body = await facts(port, 1800)
    took = round(time.perf_counter() - started, 1)
    return process, took, round(cpu_seconds(process.pid), 1), body


async def restarts(traffic: Traffic, bootstrap: str, logs: Path) -> dict[str, Any]:
    settings = CommonSettings(kafka_bootstrap=bootstrap, topic_prefix=f"br{os.getpid()}-")
    await create_topics(settings)
    state = logs / "state"
    cut = len(traffic.events) - TAIL
    history = await write_history(settings, traffic, slice(0, cut))
    first, full_s, full_cpu_s, body = await ready_after(settings, state, logs / "analyst-1.log")
    try:
        full_records = body["records_replayed"]
    finally:
        stop_s = stop_process(first)
    snapshot = next(state.glob("*.snapshot"))
    tail = await write_history(settings, traffic, slice(cut, None))
    second, snapshot_s, snapshot_cpu_s, body = await ready_after(
        settings, state, logs / "analyst-2.log"
    )
    stop_process(second)
    return {
        "history_records": history + tail, "full_replay_s": full_s, "full_replay_cpu_s": full_cpu_s,
        "full_replay_records": full_records, "stop_s": stop_s,
        "snapshot_bytes": snapshot.stat().st_size, "snapshot_start_s": snapshot_s,
        "snapshot_start_cpu_s": snapshot_cpu_s,
        "records_replayed": body["records_replayed"], "tail_records": tail,
        "from_snapshot": body["snapshot_offsets"] != {},
    }  # fmt: skip


def main() -> None:
    end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    began = time.perf_counter()
    traffic = simulate(end - dt.timedelta(days=DAYS))
    print(f"simulated {len(traffic.events)} events ({time.perf_counter() - began:.0f} s)",
          file=sys.stderr)  # fmt: skip
    logs = Path(tempfile.mkdtemp(prefix="bench-analyst-restart-"))
    print(f"service logs in {logs}", file=sys.stderr)
    with bench_broker() as bootstrap:
        result = {"events": len(traffic.events), **asyncio.run(restarts(traffic, bootstrap, logs))}
    result["speedup"] = round(result["full_replay_s"] / max(result["snapshot_start_s"], 0.1), 1)
    write_result("analyst_restart", result)
    print(orjson.dumps(result).decode())


if __name__ == "__main__":
    main()
