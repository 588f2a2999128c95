"""Failover benchmark: SIGKILL of a notifier and of a matcher under steady traffic.

One run, on a throw-away broker (or RELAY_KAFKA_BOOTSTRAP), in two phases:

1. Matcher throughput with 1 and with 2 replicas on topics of their own: a backlog stored
   before they start, events/s screened from the moment every replica screens until 90% of
   it is done (``bench/failover_throughput.py``), and the cores each replica got meanwhile.
2. The relay as replicas (2 matchers, 2 ingests behind a round-robin front, 2 notifiers, the
   demo receiver) and simulated traffic at BENCH_FAILOVER_RATE events/s (2% listed travellers)
   into ingest for BENCH_FAILOVER_S seconds. A third of the way in notifier-2 is SIGKILLed,
   halfway matcher-2. Then until every alert of an accepted event has a webhook (or a bound).

Figures: ``takeover_s`` (the notifier's SIGKILL -> the first webhook of an alert of its
partitions, sent by their new owner), ``max_alert_delay_s`` (ingest's acceptance -> first
webhook, worst event of the run), ``lost`` (accepted events with an alert that no webhook
brought, plus listed travellers that got no alert although the matcher's engine, run here
offline, matches them), ``duplicate_deliveries`` (second webhook-ids for one alert, recipient
and notice) and ``throughput_1_vs_2_matchers``. ``events_per_s_sent`` says what the driver
reached. RUNS=3 repeats it and prints the median of each figure. The last line is one JSON
object (also bench/results/failover.json).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.e2e_drive import BATCH_SIZE, CONCURRENCY, TICK_S, TimedSink, generate
from bench.failover_stack import FailoverStack
from bench.failover_throughput import SPEC, log, matcher_throughput, tag
from bench.failover_watch import Kill, Watch, delays, duplicates, takeover, wait_for
from bench.support import bench_broker, create_topics, write_result
from services.cli.simulate_cmd import read_watchlist
from services.common.settings import CommonSettings
from services.demo.directory import load_api_keys
from services.demo.send import Pace, Run
from services.demo.simulate import Generated, Simulator, Sort
from services.matcher.domain import Screener, WatchlistIndex, entry_record
from tests.support.replicas import assignment, committed_to_end

RATE = float(os.environ.get("BENCH_FAILOVER_RATE", "500"))
DURATION_S = float(os.environ.get("BENCH_FAILOVER_S", "60"))
RUNS = int(os.environ.get("RUNS", "1"))
DRAIN_S = 120.0
QUIET_S = 3.0  # no new webhook for this long once everything arrived: late duplicates counted
LISTED = (Sort.LISTED_PERSON, Sort.LISTED_DOCUMENT)
TARGETS = {"takeover_s": 15, "max_alert_delay_s": 20, "lost": 0, "duplicate_deliveries": 0}
MEDIAN_KEYS = ("takeover_s", "takeover_all_partitions_s", "max_alert_delay_s", "lost",
               "duplicate_deliveries", "events_per_s_sent", "events_per_s_accepted")  # fmt: skip


class AcceptingSink(TimedSink):
    """``TimedSink`` noting when ingest accepted every event, not only the listed ones."""

    def note(self, batch: list[Generated], results: list[dict[str, Any]], at: float) -> None:
        for result in results:
            if result.get("status") == 202 and isinstance(result.get("event_id"), str):
                self.accepted_at[result["event_id"]] = at


async def _kill_when(
    stack: FailoverStack, name: str, group: str, topics: set[str], after_s: float
) -> Kill:
    await asyncio.sleep(after_s)  # the schedule of the run, not a wait on a result
    _, held = await assignment(stack.settings, group)
    replica = stack.running[name]
    partitions = frozenset(
        tp.partition for tp in held.get(replica.client_id, ()) if tp.topic in topics
    )
    kill = Kill(name, stack.kill(name), partitions)
    log(f"SIGKILL {name} (held partitions {sorted(partitions)} of {sorted(topics)})")
    return kill


async def failover(bootstrap: str, workdir: Path) -> dict[str, Any]:
    settings = CommonSettings(kafka_bootstrap=bootstrap, topic_prefix=f"fo-{tag()}.")
    await create_topics(settings)
    stack = FailoverStack(settings, workdir / "failover", 2)
    stack.workdir.mkdir()
    entries = stack.init()
    watchlist = read_watchlist(stack.demo.watchlist)
    items = generate(Simulator(SPEC, watchlist), int(RATE * DURATION_S))
    listed = {i.event_id: i for i in items if i.sort in LISTED and i.event_id}
    watch = Watch(settings, stack.receiver_url)
    try:
        await asyncio.to_thread(stack.start_receiver)
        stack.start()
        await asyncio.to_thread(stack.load_watchlist)
        await asyncio.to_thread(stack.wait_ready, "matcher", entries)
        for service in ("ingest", "notifier"):
            await asyncio.to_thread(stack.wait_ready, service)
        await stack.shared("matcher", settings.group("matcher"))
        await stack.shared("notifier", settings.group("notifier"))
        log(f"replicas up: {sorted(stack.running)}; {entries} entries; logs in {stack.workdir}")
        tasks = [
            asyncio.create_task(watch.read_alerts()),
            asyncio.create_task(watch.poll_forever()),
        ]
        try:
            result = await _drive(stack, watch, items, listed)
            result.update(_lost(watch, result.pop("accepted_events"), listed, watchlist))
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    except BaseException:
        log(stack.logs())
        raise
    finally:
        await asyncio.to_thread(stack.stop)
    return result


async def _drive(
    stack: FailoverStack, watch: Watch, items: list[Generated], listed: dict[str, Generated]
) -> dict[str, Any]:
    settings = stack.settings
    queue = iter(items)

    def produce() -> tuple[str, Generated]:
        item = next(queue)
        return item.agency, item

    run = Run(Pace(RATE, None, len(items), BATCH_SIZE, CONCURRENCY, TICK_S), produce=produce)
    event_topics = {settings.topic(t) for t in ("events.border_crossing", "events.document_check")}
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=30.0)
    session = aiohttp.ClientSession(stack.ingest_url, connector=connector, timeout=timeout)
    async with session as client:
        sink = AcceptingSink(client, load_api_keys(stack.demo.api_keys))
        kills = [
            asyncio.create_task(_kill_when(stack, "notifier-2", settings.group("notifier"),
                                           {settings.topic("alerts")}, DURATION_S / 3)),
            asyncio.create_task(_kill_when(stack, "matcher-2", settings.group("matcher"),
                                           event_topics, DURATION_S / 2)),
        ]  # fmt: skip
        with (stack.workdir / "driver.log").open("a") as out:
            stderr, sys.stderr = sys.stderr, out  # the sender's line a second, kept in a file
            try:
                elapsed = await run.run(sink)
            finally:
                sys.stderr = stderr
        notifier_kill, matcher_kill = await asyncio.gather(*kills)
    stack.check_alive("notifier-2", "matcher-2")
    accepted = sink.accepted_at
    log(f"sent {run.total.sent} in {elapsed:.1f}s, accepted {len(accepted)}; draining")
    await _drain(stack, watch, accepted, listed)
    return _figures(watch, run, elapsed, accepted, (notifier_kill, matcher_kill))


async def _drain(
    stack: FailoverStack, watch: Watch, accepted: dict[str, float], listed: dict[str, Generated]
) -> None:
    """Until the matchers screened everything and every alert of an accepted event (and every
    listed traveller) has a webhook, then QUIET_S without a new one; or DRAIN_S at most."""
    settings = stack.settings
    topics = [settings.topic(t) for t in ("events.border_crossing", "events.document_check")]
    started = time.monotonic()
    await wait_for(lambda: committed_to_end(settings, settings.group("matcher"), *topics), DRAIN_S)
    wanted = set(accepted) & set(listed)

    def delivered() -> bool:
        arrived = {d.event_id for d in watch.deliveries}
        return not watch.undelivered(accepted) and wanted <= arrived

    await wait_for(delivered, max(5.0, DRAIN_S - (time.monotonic() - started)))
    count = -1
    while count != len(watch.deliveries):
        count = len(watch.deliveries)
        await asyncio.sleep(QUIET_S)  # a late re-send would show within this


def _figures(
    watch: Watch, run: Run, elapsed: float, accepted: dict[str, float], kills: tuple[Kill, Kill]
) -> dict[str, Any]:  # fmt: skip
    notifier_kill, matcher_kill = kills
    alerts = {a for e in accepted for a in watch.alerts_of.get(e, ())}
    return {
        **takeover(watch, notifier_kill),
        **delays(watch, accepted, notifier_kill.at),
        **duplicates(watch.deliveries, alerts),
        "accepted_events": accepted,
        "events_per_s_sent": round(run.total.sent / elapsed, 1),
        "events_per_s_accepted": round(len(accepted) / elapsed, 1),
        "events_sent": run.total.sent,
        "events_accepted": len(accepted),
        "ingest_errors": run.total.errors,
        "alerted_events": len({e for e in accepted if e in watch.alerts_of}),
        "alerts": len(alerts),
        "webhooks": len(watch.deliveries),
        "receiver_rejected": watch.rejected,
        "notifier_killed_partitions": sorted(notifier_kill.partitions),
        "matcher_killed_partitions": len(matcher_kill.partitions),
        "matcher_killed_after_s": round(matcher_kill.at - notifier_kill.at, 1),
    }


def _lost(
    watch: Watch, accepted: dict[str, float], listed: dict[str, Generated],
    watchlist: list[dict[str, Any]],
) -> dict[str, Any]:  # fmt: skip
    """Accepted events with an alert that no webhook brought, and listed travellers with no
    alert at all although the engine matches them to their entry."""
    delivered = {d.event_id for d in watch.deliveries}
    silent = {e for e in listed if e in accepted and e not in watch.alerts_of}
    missed = _should_have_alerted(silent, listed, watchlist)
    lost = watch.undelivered(accepted) | {e for e in missed if e not in delivered}
    return {
        "lost": len(lost),
        "listed_accepted": len(set(listed) & set(accepted)),
        "listed_not_alerted": len(silent),
        "listed_not_alerted_but_matching_offline": len(missed),
    }


def _should_have_alerted(
    silent: set[str], listed: dict[str, Generated], watchlist: list[dict[str, Any]]
) -> set[str]:
    """Of listed travellers without any alert, those the matcher's engine (run here, offline)
    matches to their entry: lost by the relay, not missed by the engine."""
    if not silent:
        return set()
    index = WatchlistIndex()
    for entry in watchlist:
        index.upsert(entry_record(entry))
    screener = Screener(index)
    return {
        e for e in silent
        if isinstance(listed[e].value, dict)
        and listed[e].entry_id in {m.entry_id for m in screener.screen(listed[e].value)}
    }  # fmt: skip


def run_once(bootstrap: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="relay-failover-") as tmp:
        workdir = Path(tmp)
        one, one_cores = asyncio.run(matcher_throughput(bootstrap, workdir, 1))
        two, two_cores = asyncio.run(matcher_throughput(bootstrap, workdir, 2))
        result = asyncio.run(failover(bootstrap, workdir))
    result["throughput_1_vs_2_matchers"] = [one, two]
    # On a machine with few cores the replicas share them: the cores they got say why.
    result["matcher_cores_1_vs_2"] = [one_cores, two_cores]
    result["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    if len(runs) == 1:
        summary = dict(runs[0])
    else:
        summary = {k: _median([r[k] for r in runs]) for k in MEDIAN_KEYS}
        summary["throughput_1_vs_2_matchers"] = [
            _median([r["throughput_1_vs_2_matchers"][i] for r in runs]) for i in (0, 1)
        ]
        summary["median_of_runs"] = len(runs)
        summary["runs"] = runs
    summary["targets_met"] = {
        k: summary[k] is not None and summary[k] <= target for k, target in TARGETS.items()
    }
    summary["offered_events_per_s"] = RATE
    summary["duration_s"] = DURATION_S
    summary["cpus"] = os.cpu_count()
    summary["at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return summary


def _median(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def main() -> None:
    runs = []
    with bench_broker() as bootstrap:
        for n in range(RUNS):
            log(f"run {n + 1} of {RUNS}")
            runs.append(run_once(bootstrap))
            log(json.dumps(runs[-1]))
    summary = summarise(runs)
    write_result("failover", summary)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
