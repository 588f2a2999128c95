"""End-to-end benchmark: event accepted by ingest -> alert -> signed webhook at the demo receiver.

One run: a throw-away broker (or RELAY_KAFKA_BOOTSTRAP), the whole relay as subprocesses
(receiver, matcher, ingest, notifier) under a unique topic prefix, the demo watchlist loaded;
then the stack's limit (a plain aiokafka consume -> produce passthrough on the same broker)
and simulated traffic at rates stepping up until the relay saturates. Writes
bench/results/e2e.json and e2e.png (latency against sustained throughput); the last line
printed is the summary JSON.

Knobs (environment): BENCH_E2E_RATES (comma-separated events/s), BENCH_E2E_STEP_S (seconds
per step), BENCH_E2E_LATENCY_STEP_S (seconds of the 1,000 events/s step),
BENCH_E2E_PASSTHROUGH (records), BENCH_E2E_BUDGET_S (no new step after this long).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.e2e_drive import StepContext, StepPlan, generate, run_step, saturated
from bench.e2e_probe import Probe
from bench.e2e_stack import Stack
from bench.support import RESULTS, bench_broker, create_topics, passthrough, write_result
from services.cli.simulate_cmd import read_watchlist
from services.common.kafka import admin_client, make_producer
from services.common.settings import CommonSettings
from services.demo.directory import load_api_keys
from services.demo.simulate import SimulationSpec, Simulator

DEFAULT_RATES = "250,500,750,1000,1500,2000,3000,4000,5000,6000"
RATES = [int(r) for r in os.environ.get("BENCH_E2E_RATES", DEFAULT_RATES).split(",")]
STEP_S = float(os.environ.get("BENCH_E2E_STEP_S", "10"))
LATENCY_STEP_S = float(os.environ.get("BENCH_E2E_LATENCY_STEP_S", "20"))
PASSTHROUGH = int(os.environ.get("BENCH_E2E_PASSTHROUGH", "60000"))
BUDGET_S = float(os.environ.get("BENCH_E2E_BUDGET_S", "420"))
LATENCY_RATE = 1000
SPEC = SimulationSpec(seed=20, listed_share=0.02, broken_share=0.01)
TARGETS = {"sustained_events_per_s": 3000, "p99_ms_at_1000": 250}


def log(message: str) -> None:
    sys.stderr.write(f"[bench-e2e] {message}\n")
    sys.stderr.flush()


async def measure_passthrough(settings: CommonSettings, sim: Simulator) -> float:
    """The broker's limit for this stack with these very events (own topics, idle services)."""
    pt = settings.model_copy(update={"topic_prefix": f"{settings.topic_prefix}pt."})
    await create_topics(pt)
    values = [orjson.dumps(g.value) for g in generate(sim, 2000) if isinstance(g.value, dict)]
    source = pt.topic("events.border_crossing")
    async with make_producer(pt, linger_ms=5) as producer:
        futures = [
            await producer.send(source, values[i % len(values)], key=str(i).encode())
            for i in range(PASSTHROUGH)
        ]
        await asyncio.gather(*futures)
    return await passthrough(pt, source, pt.topic("events.dlq"), PASSTHROUGH)


def plans() -> list[StepPlan]:
    return [StepPlan(r, LATENCY_STEP_S if r == LATENCY_RATE else STEP_S) for r in RATES]


async def measure(stack: Stack) -> dict[str, Any]:
    entries = read_watchlist(stack.demo.watchlist)
    sim = Simulator(SPEC, entries)
    limit = await measure_passthrough(stack.settings, Simulator(SPEC, entries))
    log(f"passthrough limit {limit:.0f} records/s")
    steps: list[dict[str, Any]] = []
    started = time.monotonic()
    settings = stack.settings
    async with httpx.AsyncClient() as client, admin_client(settings) as admin:
        group = f"{settings.topic_prefix}matcher"
        ctx = StepContext(
            Probe(client, stack.ports, admin, group, settings.topic_prefix),
            sim,
            stack.ports.url("ingest"),
            load_api_keys(stack.demo.api_keys),
            stack.workdir / "driver.log",
            stack.cpu_seconds,
        )
        for plan in plans():
            if time.monotonic() - started > BUDGET_S:
                log(f"time budget spent; no step at {plan.rate}/s")
                break
            stack.check_alive()
            step = await run_step(ctx, plan)
            step["saturated"] = saturated(step)
            step["loadavg"] = [round(x, 2) for x in os.getloadavg()]
            steps.append(step)
            lat = step["latency"]
            log(
                f"offered {plan.rate}/s: accepted {step['accepted_per_s']}/s, sustained "
                f"{step['sustained_per_s']}/s, p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms, "
                f"delivered {lat['listed_delivered']}/{lat['listed_accepted']}, "
                f"lag max {step['lag_max']}, saturated {step['saturated']}, "
                f"cores {step['cpu_cores']}, CPU ms/event {step['cpu_ms_per_event']}"
            )
            if step["saturated"] and plan.rate >= LATENCY_RATE:  # the 1,000/s step always runs
                break
        probe = ctx.probe
    return {
        "passthrough_events_per_s": limit,
        "steps": steps,
        "receiver_rejected": probe.rejected,
        "metrics_failures": probe.metrics_failures,
    }


def summarise(raw: dict[str, Any], load_start: list[float]) -> dict[str, Any]:
    steps: list[dict[str, Any]] = raw["steps"]
    best = max(steps, key=lambda s: s["sustained_per_s"]) if steps else None
    at_1000 = next((s for s in steps if s["offered_per_s"] == LATENCY_RATE), None)
    sustained = best["sustained_per_s"] if best else 0.0
    limit = raw["passthrough_events_per_s"]
    unsaturated = [s["offered_per_s"] for s in steps if not s["saturated"]]
    p99 = at_1000["latency"]["p99_ms"] if at_1000 else None
    return {
        "sustained_events_per_s": round(sustained),
        "sustained_at_offered_per_s": best["offered_per_s"] if best else None,
        "highest_unsaturated_offered_per_s": max(unsaturated, default=None),
        "first_saturated_offered_per_s": next(
            (s["offered_per_s"] for s in steps if s["saturated"]), None
        ),
        "p99_ms_at_1000": p99,
        "p50_ms_at_1000": at_1000["latency"]["p50_ms"] if at_1000 else None,
        "passthrough_events_per_s": round(limit),
        "ratio_to_passthrough": round(sustained / limit, 3) if limit else None,
        "steps": len(steps),
        "targets_met": {
            "sustained_events_per_s": sustained >= TARGETS["sustained_events_per_s"],
            "p99_ms_at_1000": p99 is not None and p99 <= TARGETS["p99_ms_at_1000"],
        },
        "webhooks_rejected_by_receiver": raw["receiver_rejected"],
        "loadavg_start": load_start,
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }


def plot(steps: list[dict[str, Any]], path: Path) -> None:
    import matplotlib  # noqa: PLC0415 - the backend must be chosen before pyplot loads

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    xs = [s["sustained_per_s"] for s in steps]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key, label in (("p50_ms", "p50"), ("p99_ms", "p99")):
        ax.plot(xs, [s["latency"][key] for s in steps], marker="o", label=label)
    for s in steps:
        ax.annotate(f"{s['offered_per_s']}/s", (s["sustained_per_s"], s["latency"]["p99_ms"]),
                    textcoords="offset points", xytext=(4, 4), fontsize=7)  # fmt: skip
    ax.axhline(TARGETS["p99_ms_at_1000"], color="grey", linestyle=":", label="p99 target @1000/s")
    ax.set_xlabel("sustained end-to-end throughput (events/s)")
    ax.set_ylabel("event accepted -> webhook received (ms)")
    ax.set_yscale("log")
    ax.set_title("notice-relay end to end (labels: offered rate)")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_once(bootstrap: str, workdir: Path) -> dict[str, Any]:
    settings = CommonSettings(
        kafka_bootstrap=bootstrap, topic_prefix=f"e2e-{uuid.uuid4().hex[:6]}."
    )
    asyncio.run(create_topics(settings))
    stack = Stack(settings, workdir)
    try:
        entries = stack.start()
        log(f"stack up, {entries} watchlist entries; logs in {workdir}")
        raw = asyncio.run(measure(stack))
    except BaseException:
        sys.stderr.write(stack.logs(60) + "\n")
        raise
    finally:
        log(f"stopped: {stack.stop()}")
    raw["watchlist_entries"] = entries
    return raw


def main() -> None:
    load_start = [round(x, 2) for x in os.getloadavg()]
    began = time.monotonic()
    with bench_broker() as bootstrap, tempfile.TemporaryDirectory(prefix="relay-e2e-") as tmp:
        raw = run_once(bootstrap, Path(tmp))
    summary = summarise(raw, load_start)
    summary["wall_s"] = round(time.monotonic() - began, 1)
    write_result("e2e", {"summary": summary, **raw})
    plot(raw["steps"], RESULTS / "e2e.png")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
