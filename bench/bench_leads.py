"""Leads benchmark: planted patterns found by the real analysis service on the broker.

Background traffic from the simulator (``BENCH_LEADS_EVENTS``, 200,000 by default, over 60
simulated days ending now) with ``BENCH_LEADS_INSTANCES`` planted instances of every pattern,
and a demo watchlist whose hits the matcher's own screener finds offline; they are written to
the event topics (and the hits, as alerts, to ``alerts``) in time order at
``BENCH_LEADS_RATE`` events per second while ``python -m services.analyst`` runs. Then:

- per pattern: ``recall`` (planted instances that some lead holds evidence of), ``precision``
  (leads of the pattern that hold evidence of a planted instance of it, over all its leads),
  ``median_delay_s`` (the instance's completing event written -> its first lead read from
  ``leads``), and the leads wholly made of the simulator's listed travellers (``listed``:
  people of the demo watchlist whom the simulator sends across again and again; counted
  apart, not as planted, and in ``precision_with_listed`` as false);
- ``events_per_s``: the analysis on one core (bytes -> event -> patterns), offline, in this
  single-threaded process, per CPU second (``events_per_s_wall``: per wall-clock second, which
  a shared machine lowers); ``service.replay_records_per_s``: a second analyst rebuilding from
  ``analyst.sightings`` (the service's own loop, on the broker, start-up included) and
  ``service.records_per_cpu_s`` of the live analyst.

Run: ``make bench-leads``. The last line printed is one JSON object (also
``bench/results/leads.json``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.support import (
    bench_broker,
    cpu_seconds,
    create_topics,
    free_port,
    median,
    write_result,
)
from schemas.codec import decode, decode_entry, decode_event, encode
from schemas.event import Event, EventType
from schemas.lead import Lead, Pattern
from services.analyst.domain import Analyser, Hit, Params
from services.common import gcpolicy
from services.common.kafka import make_consumer, make_producer, partitions_of
from services.common.settings import CommonSettings
from services.demo.plant import PlantSpec
from services.demo.simulate import SimulationSpec, Simulator, Sort
from services.demo.to_file import Clock
from services.demo.watchlist_gen import WatchlistSpec, generate
from services.matcher.domain import Screener, WatchlistIndex, entry_record, event_record
from services.matcher.domain.alerts import to_alert

EVENTS = int(os.environ.get("BENCH_LEADS_EVENTS", "200000"))
INSTANCES = int(os.environ.get("BENCH_LEADS_INSTANCES", "10"))
RATE = float(os.environ.get("BENCH_LEADS_RATE", "1000"))
DAYS = 60
KEY = "bench-leads-pseudonym-key-7Hq2Lw9Zx4Rv8Nm3"
LISTED = "listed"
# Listed travellers: one in 200 events, from 2,000 person and 2,000 document entries, so that
# a listed person crosses about once in the 60 days, not every few days (relay simulate's
# default of 2% from the small demo list suits alerts, not a history of two months).
LISTED_SHARE = 0.005
PERSON_PATTERNS = [p for p in Pattern if p is not Pattern.FLOW_SURGE]
CHUNK = 512


@dataclass
class Traffic:
    events: list[bytes] = field(default_factory=list)  # in time order
    decoded: list[Event] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)  # event id -> pattern#n or "listed"
    alerts: dict[str, list[bytes]] = field(default_factory=dict)  # event id -> alerts
    hits: dict[str, list[Hit]] = field(default_factory=dict)
    planted: set[str] = field(default_factory=set)


def simulate(start: dt.datetime) -> Traffic:
    entries = generate(WatchlistSpec(persons=2000, sltd=2000, seed=11, today=start.date()))
    plan = PlantSpec(tuple(Pattern), start, dt.timedelta(days=DAYS), INSTANCES)
    spec = SimulationSpec(seed=7, listed_share=LISTED_SHARE, broken_share=0.0)
    sim = Simulator(spec, entries, plan)
    clock = Clock(start, dt.timedelta(days=DAYS), EVENTS)
    traffic = Traffic()
    found: list[tuple[Event, bytes]] = []
    for n in range(EVENTS):
        item = sim.next(clock.at(n))
        if not isinstance(item.value, dict):
            continue
        value = orjson.dumps(item.value)
        event = decode_event(value)
        found.append((event, value))
        if item.planted:
            traffic.tags[event.event_id] = item.planted
            traffic.planted.add(item.planted)
        elif item.sort in (Sort.LISTED_PERSON, Sort.LISTED_DOCUMENT):
            traffic.tags[event.event_id] = LISTED
    found.sort(key=lambda pair: pair[0].occurred_at)
    traffic.decoded = [event for event, _ in found]
    traffic.events = [value for _, value in found]
    screen(traffic, entries)
    return traffic


def screen(traffic: Traffic, entries: list[dict[str, Any]]) -> None:
    """The matcher's hits and alerts for every event, found offline by its own screener."""
    index = WatchlistIndex()
    for raw in entries:
        index.upsert(entry_record(decode_entry(orjson.dumps(raw))))
    screener = Screener(index)
    now = dt.datetime.now(dt.UTC)
    for start in range(0, len(traffic.decoded), CHUNK):
        chunk = traffic.decoded[start : start + CHUNK]
        for event, matches in zip(
            chunk, screener.screen_many([event_record(e) for e in chunk]), strict=True
        ):
            if not matches:
                continue
            traffic.alerts[event.event_id] = [encode(to_alert(m, now)) for m in matches]
            traffic.hits[event.event_id] = [
                Hit(m.event_id, m.entry_id, m.list, m.band, m.restricted_to, m.issuer)
                for m in matches
            ]


def offline_rate(traffic: Traffic) -> tuple[float, float]:
    """The analysis on one core, bytes -> event -> patterns: (events per CPU second of this
    single-threaded process, events per wall-clock second). The machine may be shared: the
    CPU figure is the one that does not depend on what else runs."""
    analyser = Analyser(Params(), KEY.encode())
    analyser.observe(decode_event(traffic.events[0]))  # loads the name data, once a process
    gcpolicy.settle_service_heap()  # the service process's GC policy (services/analyst/app.py)
    cpu, wall = time.process_time(), time.perf_counter()
    for value in traffic.events[1:]:
        event = decode_event(value)
        analyser.observe(event, traffic.hits.get(event.event_id, ()))
        analyser.tick(event.occurred_at)
    count = len(traffic.events) - 1
    return count / (time.process_time() - cpu), count / (time.perf_counter() - wall)


def start_analyst(
    settings: CommonSettings, port: int, log: Path, extra: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RELAY_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "RELAY_TOPIC_PREFIX": settings.topic_prefix,
        "RELAY_ANALYST_HTTP_PORT": str(port),
        "RELAY_ANALYST_PSEUDONYM_KEY": KEY,
        "RELAY_LOG_FORMAT": "json",
        **(extra or {}),
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.analyst"], env=env, stdout=out,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip


async def facts(port: int, timeout_s: float) -> dict[str, Any]:
    """The analyst's /readyz body once it answers 200."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                response = await client.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                if response.status_code == 200:
                    body: dict[str, Any] = response.json()
                    return body
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"the analyst was not ready within {timeout_s:.0f}s")


async def analysed(port: int, count: int, timeout_s: float) -> None:
    """Until the analyst has put ``count`` records of the history through the patterns."""
    deadline = time.monotonic() + timeout_s
    while (await facts(port, timeout_s))["records_analysed"] < count:
        if time.monotonic() > deadline:
            raise TimeoutError("the analyst did not catch up")
        await asyncio.sleep(0.5)


@dataclass
class Seen:
    first: dict[str, float] = field(default_factory=dict)  # lead id -> read at
    versions: list[tuple[float, Lead]] = field(default_factory=list)
    final: dict[str, Lead] = field(default_factory=dict)


async def follow_leads(settings: CommonSettings, seen: Seen, stop: asyncio.Event) -> None:
    consumer = make_consumer(settings, group_id=None)
    async with consumer:
        consumer.assign(await partitions_of(settings, settings.topic("leads")))
        await consumer.seek_to_beginning()
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=200)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    lead = decode(Lead, record.value or b"")
                    seen.versions.append((now, lead))
                    seen.first.setdefault(lead.lead_id, now)
                    seen.final[lead.lead_id] = lead


async def until_read(seen: Seen, leads: int, timeout_s: float) -> None:
    """Until the reader has seen every lead the analyst published."""
    deadline = time.monotonic() + timeout_s
    while len(seen.final) < leads:
        if time.monotonic() > deadline:
            raise TimeoutError(f"read {len(seen.final)} of {leads} leads")
        await asyncio.sleep(0.2)


async def produce(settings: CommonSettings, traffic: Traffic) -> dict[str, float]:
    """Every event (and its alerts right after) in time order at RATE; event id -> sent at."""
    sent: dict[str, float] = {}
    producer = make_producer(settings, linger_ms=5)
    topics = {
        EventType.BORDER_CROSSING: settings.topic("events.border_crossing"),
        EventType.DOCUMENT_CHECK: settings.topic("events.document_check"),
    }
    async with producer:
        started = time.perf_counter()
        for n, (event, value) in enumerate(zip(traffic.decoded, traffic.events, strict=True)):
            due = started + n / RATE
            if due > time.perf_counter():
                await asyncio.sleep(due - time.perf_counter())
            sent[event.event_id] = time.perf_counter()
            await producer.send(topics[event.type], value, key=event.event_id.encode())
            for alert in traffic.alerts.get(event.event_id, []):
                await producer.send(settings.topic("alerts"), alert, key=event.event_id.encode())
        await producer.flush()
    return sent


def score(traffic: Traffic, seen: Seen, sent: dict[str, float]) -> dict[str, Any]:
    per: dict[str, Any] = {}
    first_seen: dict[str, float] = {}  # instance -> read at (the first lead holding it)
    completing: dict[str, float] = {}  # instance -> its completing event written at
    for at, lead in seen.versions:
        for tag in _instances(traffic, lead):
            if tag not in first_seen:
                first_seen[tag] = at
                completing[tag] = max(sent[e.event_id] for e in lead.evidence)
    for pattern in Pattern:
        name = pattern.value
        planted = {t for t in traffic.planted if t.startswith(name + "#")}
        leads = [lead for lead in seen.final.values() if lead.pattern is pattern]
        true = [lead for lead in leads if _instances(traffic, lead)]
        listed = [
            lead for lead in leads if not _instances(traffic, lead) and _listed(traffic, lead)
        ]
        found = {t for lead in true for t in _instances(traffic, lead)}
        others = len(leads) - len(listed)
        delays = [first_seen[t] - completing[t] for t in found]
        per[name] = {
            "planted": len(planted),
            "recall": round(len(found & planted) / len(planted), 3) if planted else None,
            "precision": round(len(true) / others, 3) if others else None,
            "precision_with_listed": round(len(true) / len(leads), 3) if leads else None,
            "leads": len(leads),
            "listed": len(listed),
            "median_delay_s": round(median(delays), 3) if delays else None,
        }
    return per


def _instances(traffic: Traffic, lead: Lead) -> set[str]:
    tags = {traffic.tags.get(e.event_id, "") for e in lead.evidence}
    return {t for t in tags if t.startswith(lead.pattern.value + "#")}


def _listed(traffic: Traffic, lead: Lead) -> bool:
    tags = {traffic.tags.get(e.event_id, "") for e in lead.evidence}
    return bool(tags) and tags <= {LISTED}


async def through_service(traffic: Traffic, bootstrap: str, logs: Path) -> dict[str, Any]:
    settings = CommonSettings(kafka_bootstrap=bootstrap, topic_prefix=f"bl{os.getpid()}-")
    await create_topics(settings)
    port = free_port()
    analyst = start_analyst(settings, port, logs / "analyst.log")
    seen, stop = Seen(), asyncio.Event()
    reader = asyncio.create_task(follow_leads(settings, seen, stop))
    try:
        await facts(port, 120)
        started = time.perf_counter()
        sent = await produce(settings, traffic)
        produced_s = time.perf_counter() - started
        history = len(traffic.events) + sum(len(a) for a in traffic.alerts.values())
        await analysed(port, history, 600)
        caught_up_s = time.perf_counter() - started
        body = await facts(port, 10)
        cpu = cpu_seconds(analyst.pid)
        await until_read(seen, body["leads"], 60)
    finally:
        stop_s = stop_process(analyst)
    stop.set()
    await reader
    replay = await replay_rate(settings, logs)
    return {
        "per_pattern": score(traffic, seen, sent),
        "service": {
            "rate": RATE, "produce_s": round(produced_s, 1), "caught_up_s": round(caught_up_s, 1),
            "history_records": history, "lead_records": len(seen.versions),
            "leads": body["leads"], "replay_records_per_s": replay,
            "records_per_cpu_s": round(history / cpu, 1), "cpu_s": round(cpu, 1),
            "stop_s": stop_s,
        },
    }  # fmt: skip


def stop_process(process: subprocess.Popen[bytes]) -> float:
    """SIGTERM, then the seconds until it exited (SIGKILL after two minutes)."""
    started = time.perf_counter()
    process.terminate()
    try:
        process.wait(120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return round(time.perf_counter() - started, 1)


async def replay_rate(settings: CommonSettings, logs: Path) -> float:
    """A fresh analyst's rebuild from analyst.sightings, records per second."""
    port = free_port()
    started = time.perf_counter()
    analyst = start_analyst(settings, port, logs / "analyst-replay.log")
    try:
        body = await facts(port, 900)
    finally:
        stop_process(analyst)
    replayed: int = body["records_replayed"]
    return round(replayed / (time.perf_counter() - started), 1)


def main() -> None:
    end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=DAYS)
    began = time.perf_counter()
    traffic = simulate(start)
    print(f"simulated {len(traffic.events)} events, {len(traffic.planted)} planted instances, "
          f"{sum(len(a) for a in traffic.alerts.values())} alerts "
          f"({time.perf_counter() - began:.0f} s)", file=sys.stderr)  # fmt: skip
    rate, wall_rate = offline_rate(traffic)
    print(f"analysis offline: {rate:.0f} events/CPU s, {wall_rate:.0f}/s", file=sys.stderr)
    logs = Path(tempfile.mkdtemp(prefix="bench-leads-"))
    print(f"service logs in {logs}", file=sys.stderr)
    with bench_broker() as bootstrap:
        found = asyncio.run(through_service(traffic, bootstrap, logs))
    per = found["per_pattern"]
    result = {
        "events": len(traffic.events),
        "days": DAYS,
        "instances_per_pattern": INSTANCES,
        **{name: per[name] for name in per},
        "events_per_s": round(rate, 1),
        "events_per_s_wall": round(wall_rate, 1),
        "service": found["service"],
        "targets_met": all(
            (per[p.value]["recall"] or 0) >= 0.95 and (per[p.value]["precision"] or 0) >= 0.90
            for p in PERSON_PATTERNS
        )
        and rate >= 5000,
    }
    write_result("leads", result)
    print(orjson.dumps(result).decode())


if __name__ == "__main__":
    main()
