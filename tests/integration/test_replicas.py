"""Matcher and ingest replicas on the real broker (issue 26, items 2, 3 and 5).

- Three matchers share the event partitions, each screening its share; one is SIGKILLed
  mid-stream, the other two take its partitions within the session timeout, every event's
  alert is produced and no (event, entry) ever gets a second alert id.
- Retro-screening of a new entry runs once across two matchers (group ``matcher-retro``).
- Two ingests behind one round-robin front: an event re-sent through the other replica is
  stored twice, screened twice into the same alert id, and delivered once per recipient.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import TopicPartition

from schemas.topics import TopicName
from services.cli.replicas import RoundRobin
from services.common.kafka import admin_client, make_consumer, make_producer, partitions_of
from services.common.settings import CommonSettings
from services.matcher.settings import MatcherSettings
from tests.integration.test_matcher_stream import crossing, red_notice
from tests.support.broker import free_port
from tests.support.kafka_io import TopicReader, produce_json
from tests.support.process import ServiceProcess
from tests.support.replicas import (
    Replica,
    assignment,
    committed_to_end,
    replicas,
    until,
    wait_shared,
)
from tests.support.stack import Stack, StackSpec, open_stack, start_all

pytestmark = pytest.mark.timeout(300)

EVENT_TOPICS: tuple[TopicName, ...] = ("events.border_crossing", "events.document_check")
# Invented people, one red notice each (synthetic data).
PEOPLE = [
    ("ZARIPOVA", "MADINA", "1981-01-17"),
    ("KURBANOV", "TIMUR", "1976-05-03"),
    ("ABDULLAEV", "RUSTAM", "1990-11-21"),
    ("SADYKOVA", "AIGUL", "1987-08-09"),
    ("NURMATOV", "FARRUKH", "1969-02-27"),
    ("ESHONOV", "BAHODIR", "1993-06-14"),
]


def entry_id(n: int) -> str:
    return f"RED-REP-{n}"


def event_for(person: int, topic: str, when: datetime | None = None) -> dict[str, Any]:
    surname, given, dob = PEOPLE[person]
    event = crossing(surname, given, dob, f"ZR{uuid.uuid4().int % 10**7:07d}", when=when)
    if topic == "events.document_check":
        event["type"] = "document_check"
        event.pop("direction")
    return event


def matcher_env(settings: CommonSettings) -> dict[str, str]:
    return {
        "RELAY_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "RELAY_TOPIC_PREFIX": settings.topic_prefix,
        "RELAY_LOG_FORMAT": "json",
    }


async def start_ready(group: list[Replica]) -> None:
    for replica in group:
        replica.process.start()
    await asyncio.gather(
        *(asyncio.to_thread(r.process.wait_http, r.url("/readyz"), 120) for r in group)
    )


class Traffic:
    """A steady stream of events, one per event partition in turn, each matching one entry."""

    def __init__(self, settings: CommonSettings, partitions: list[TopicPartition]) -> None:
        self.settings = settings
        self.partitions = partitions
        self.sent: dict[str, tuple[TopicPartition, float, str]] = {}  # event -> tp, at, entry

    async def run(self, rate_per_s: float) -> None:
        async with make_producer(self.settings) as producer:
            n = 0
            while True:
                tp = self.partitions[n % len(self.partitions)]
                person = n % len(PEOPLE)
                name = tp.topic.removeprefix(self.settings.topic_prefix)
                event = event_for(person, name)
                await producer.send_and_wait(tp.topic, orjson.dumps(event), partition=tp.partition)
                self.sent[event["event_id"]] = (tp, time.time(), entry_id(person))
                n += 1
                await asyncio.sleep(1 / rate_per_s)  # pacing: the stream's rate, not a wait

    def pairs(self) -> set[tuple[str, str]]:
        return {(event, entry) for event, (_, _, entry) in self.sent.items()}

    def sent_after(self, at: float, tp: TopicPartition) -> set[str]:
        return {e for e, (p, when, _) in self.sent.items() if p == tp and when >= at}


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel and wait, so its producer is closed before the test ends."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class Alerts:
    """Every alert record seen: alert ids and arrival (record timestamp) per (event, entry)."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.first_at: dict[str, float] = {}  # event id -> first alert's timestamp (s)
        self.records = 0

    def add(self, records: list[Any]) -> set[tuple[str, str]]:
        """Take the records not seen yet; the (event, entry) pairs alerted so far."""
        for record in records[self.records :]:
            alert = orjson.loads(record.value)
            self.ids[(alert["event_id"], alert["entry_id"])].add(alert["alert_id"])
            self.first_at.setdefault(alert["event_id"], record.timestamp / 1000)
        self.records = len(records)
        return set(self.ids)

    def served(
        self, records: list[Any], traffic: Traffic, since: float, tps: set[TopicPartition]
    ) -> bool:
        """Has every one of ``tps`` had an alert for an event sent there since ``since``?"""
        self.add(records)
        return all(traffic.sent_after(since, tp) & self.first_at.keys() for tp in tps)

    def handover_s(self, traffic: Traffic, since: float, tps: set[TopicPartition]) -> float:
        """Seconds from ``since`` to the first alert of the last of ``tps`` served again."""
        return max(
            min(self.first_at[e] for e in traffic.sent_after(since, tp) if e in self.first_at)
            - since
            for tp in tps
        )


async def test_three_matchers_share_the_partitions_and_survive_sigkill(
    topics: CommonSettings, tmp_path: Path
) -> None:
    entries = [red_notice(entry_id(n), *person) for n, person in enumerate(PEOPLE)]
    await produce_json(
        topics, topics.topic("watchlist.entries"), [(e["entry_id"], e) for e in entries]
    )
    group = topics.group(MatcherSettings().matcher_group_id)
    partitions = await partitions_of(topics, *(topics.topic(t) for t in EVENT_TOPICS))
    with replicas("matcher", 3, matcher_env(topics), tmp_path) as matchers:
        await start_ready(matchers)
        shared = await wait_shared(topics, group, {m.client_id for m in matchers})
        assert set().union(*shared.values()) == set(partitions)  # every partition has an owner
        traffic = Traffic(topics, partitions)
        sending = asyncio.create_task(traffic.run(rate_per_s=40))
        seen = Alerts()
        try:
            async with TopicReader(topics, topics.topic("alerts")) as alerts:
                # Each replica screens its share: its own events-in counter moves.
                await until(
                    lambda: all(m.metric("relay_events_in_total") > 0 for m in matchers),
                    60, "every matcher screened events",
                )  # fmt: skip
                first, victim, leaver = matchers
                _, held = await assignment(topics, group)
                killed, killed_at = held[victim.client_id], time.time()
                await asyncio.to_thread(victim.process.kill)
                await alerts.until(lambda rs: seen.served(rs, traffic, killed_at, killed), 30)
                held = await wait_shared(topics, group, {first.client_id, leaver.client_id}, 30)
                # A graceful stop: the leaver leaves the group before it closes.
                left, stopped_at = held[leaver.client_id], time.time()
                await asyncio.to_thread(leaver.process.stop)
                await alerts.until(lambda rs: seen.served(rs, traffic, stopped_at, left), 30)
                held = await wait_shared(topics, group, {first.client_id}, 30)
                await stop(sending)
                expected = traffic.pairs()
                await alerts.until(lambda rs: expected <= seen.add(rs), 60)
        finally:
            await stop(sending)
    assert held[first.client_id] == set(partitions)
    assert killed
    assert left
    doubled = {pair: ids for pair, ids in seen.ids.items() if len(ids) != 1}
    assert not doubled, f"a second alert id for one (event, entry): {list(doubled.items())[:3]}"
    takeover = seen.handover_s(traffic, killed_at, killed)
    graceful = seen.handover_s(traffic, stopped_at, left)
    worst = max(seen.first_at[e] - traffic.sent[e][1] for e in traffic.sent)
    print(
        "matcher replicas:",
        orjson.dumps(
            {"takeover_s": round(takeover, 2), "graceful_handover_s": round(graceful, 2),
             "max_alert_delay_s": round(worst, 2), "events": len(traffic.sent),
             "alert_records": seen.records, "orphaned_partitions": len(killed)}
        ).decode(),
    )  # fmt: skip
    assert takeover <= 15, f"the killed matcher's partitions waited {takeover:.1f}s"
    assert graceful <= 3, f"the stopped matcher's partitions waited {graceful:.1f}s"


async def warm_retro_group(settings: CommonSettings, group: str) -> None:
    """Wait until the group holds a position on every watchlist partition.

    A partition the group never committed on starts at its end; the retro screener commits
    that position as soon as it is assigned, so no entry can fall before it afterwards.
    Nothing is written here: the commits must come from the screeners themselves.
    """
    topic = settings.topic("watchlist.entries")

    async def positioned() -> bool:
        wanted = await partitions_of(settings, topic)
        async with admin_client(settings) as admin:
            committed = await admin.list_consumer_group_offsets(group)
        return all(tp in committed for tp in wanted)

    await until(positioned, 30, "retro positions")


async def test_retro_screening_runs_once_across_two_matchers(
    topics: CommonSettings, tmp_path: Path
) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    partitions = await partitions_of(topics, *(topics.topic(t) for t in EVENT_TOPICS))
    past = []
    async with make_producer(topics) as producer:
        for tp in partitions:  # the same man crossed on every partition's share, yesterday
            event = event_for(0, tp.topic.removeprefix(topics.topic_prefix), when=yesterday)
            await producer.send_and_wait(tp.topic, orjson.dumps(event), partition=tp.partition)
            past.append(event["event_id"])
    defaults = MatcherSettings()
    live, retro = (
        topics.group(defaults.matcher_group_id),
        topics.group(defaults.matcher_retro_group_id),
    )
    with replicas("matcher", 2, matcher_env(topics), tmp_path) as matchers:
        await start_ready(matchers)
        clients = {m.client_id for m in matchers}
        await wait_shared(topics, live, clients)
        await wait_shared(topics, retro, clients)  # both hold watchlist partitions (3)
        event_topics = [topics.topic(t) for t in EVENT_TOPICS]
        await until(lambda: committed_to_end(topics, live, *event_topics), 60, "past screened")
        await warm_retro_group(topics, retro)
        notice = red_notice(entry_id(0), *PEOPLE[0])
        async with TopicReader(topics, topics.topic("alerts")) as alerts:
            await produce_json(
                topics, topics.topic("watchlist.entries"), [(notice["entry_id"], notice)]
            )
            wanted = {(e, entry_id(0)) for e in past}
            records = await alerts.until(
                lambda rs: wanted <= {(a["event_id"], a["entry_id"]) for a in _values(rs)}, 90
            )
            await until(
                lambda: committed_to_end(topics, retro, topics.topic("watchlist.entries")),
                60, "the retro scan committed",
            )  # fmt: skip
            stored = await record_count(topics, topics.topic("alerts"))
            records = await alerts.until(lambda rs: len(rs) >= stored, 30)
    retro_alerts = [a for a in _values(records) if a["entry_id"] == entry_id(0)]
    assert all(a["retro"] is True for a in retro_alerts)
    assert sorted(a["event_id"] for a in retro_alerts) == sorted(past)  # once each, not twice
    scans = [
        line
        for m in matchers
        for line in (
            orjson.loads(x)
            for x in m.process.log_path.read_bytes().splitlines()
            if x.startswith(b"{")
        )
        if line.get("event") == "retro.scanned"
    ]
    assert [s["entries"] for s in scans] == [1], scans  # one scan, in one of the two replicas


async def record_count(settings: CommonSettings, topic: str) -> int:
    """Records stored in a topic of this test (no transactions: offsets count records)."""
    async with make_consumer(settings, group_id=None) as consumer:
        ends = await consumer.end_offsets(await partitions_of(settings, topic))
    return sum(ends.values())


def _values(records: list[Any]) -> list[dict[str, Any]]:
    return [orjson.loads(r.value) for r in records if r.value is not None]


@pytest.fixture
def stack(topics: CommonSettings, tmp_path: Path) -> Iterator[Stack]:
    spec = StackSpec(topics.kafka_bootstrap, topics.topic_prefix, persons=60, sltd=60)
    with open_stack(spec, tmp_path) as built:
        start_all(built)
        yield built


def listed_events(stack: Stack, count: int, seed: int) -> list[tuple[dict[str, Any], str]]:
    """Events of listed travellers (the simulator's), each with the entry it must match."""
    out, record = stack.logs / "listed.jsonl", stack.logs / "listed-record.jsonl"
    stack.relay(
        "simulate", "--target", "file", "--out", str(out), "--record", str(record),
        "--count", str(count), "--listed-share", "1", "--broken-share", "0",
        "--party-share", "0", "--days", "0.01", "--seed", str(seed),
        "--watchlist", str(stack.demo / "demo-watchlist.jsonl"),
    )  # fmt: skip
    events = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    entries = {
        r["event_id"]: r["entry_id"] for r in map(orjson.loads, record.read_bytes().splitlines())
    }
    return [(e, entries[e["event_id"]]) for e in events if entries.get(e["event_id"])]


async def post(url: str, event: dict[str, Any], key: str) -> dict[str, Any]:
    """One event on a new connection, as a client retrying after a timeout would."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{url}/v1/events", json=event, headers={"Authorization": f"Bearer {key}"}
        )
    assert response.status_code == 202, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_an_event_resent_to_the_other_ingest_is_delivered_once(
    stack: Stack, topics: CommonSettings, tmp_path: Path
) -> None:
    await asyncio.to_thread(stack.ready)
    port = free_port()
    env = {**stack.env, "RELAY_INGEST_HTTP_PORT": str(port), "RELAY_KAFKA_CLIENT_ID": "ingest-2"}
    second = ServiceProcess("services.ingest", env, tmp_path / "ingest-2.log").start()
    front = RoundRobin([("127.0.0.1", stack.ports["ingest"]), ("127.0.0.1", port)])
    try:
        await asyncio.to_thread(second.wait_http, f"http://127.0.0.1:{port}/readyz", 90)
        server = await front.serve(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        keys = orjson.loads((stack.demo / "api-keys.json").read_bytes())
        sent = await asyncio.to_thread(listed_events, stack, 12, 1)
        assert len(sent) >= 8
        for event, _ in sent:  # the same event twice: one connection to each replica
            answers = [await post(url, event, keys[event["reported_by"]]) for _ in range(2)]
            assert [a["outcome"] for a in answers] == ["accepted", "accepted"]
        assert set(front.served.values()) == {len(sent)}  # each replica took one of each pair

        want = {event["event_id"] for event, _ in sent}
        await until(lambda: want <= delivered_events(stack), 90, "every listed event delivered")
        group = topics.group("notifier")
        alerts, urgent = topics.topic("alerts"), topics.topic("alerts.urgent")
        await until(lambda: committed_to_end(topics, group, alerts), 60, "notifier read alerts")
        await until(lambda: committed_to_end(topics, f"{group}-urgent", urgent), 60, "urgent")
        stored = await record_count(topics, alerts)
        async with TopicReader(topics, alerts) as reader:
            records = await reader.until(lambda rs: len(rs) >= stored, 30)
        ids: dict[tuple[str, str], set[str]] = defaultdict(set)
        copies: dict[tuple[str, str], int] = defaultdict(int)
        for alert in _values(records):
            pair = (alert["event_id"], alert["entry_id"])
            ids[pair].add(alert["alert_id"])
            copies[pair] += 1
        for event, entry in sent:
            pair = (event["event_id"], entry)
            assert len(ids[pair]) == 1, pair  # both copies screened into one alert id
            assert copies[pair] == 2, pair  # ... so the notifier is what keeps it to one notice

        summary: dict[str, Any] = stack.received()
        assert summary["rejected"] == 0
        mine = [r for r in summary["recent"] if r["event_id"] in want]
        per_recipient: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        for item in mine:
            per_recipient[(item["alert_id"], item["path"], item["type"])].add(item["webhook_id"])
        assert all(len(w) == 1 for w in per_recipient.values()), per_recipient
        by_id: dict[str, int] = summary["by_id"]
        assert all(by_id[item["webhook_id"]] == 1 for item in mine)  # not even re-sent

        # One replica dies: the front skips it, and every event is still accepted.
        await asyncio.to_thread(stack.processes["ingest"].kill)
        more = await asyncio.to_thread(listed_events, stack, 4, 2)
        for event, _ in more:
            answer = await post(url, event, keys[event["reported_by"]])
            assert answer["outcome"] == "accepted"
    finally:
        await front.aclose()
        second.stop()


def delivered_events(stack: Stack) -> set[str]:
    summary: dict[str, Any] = stack.received()
    return {r["event_id"] for r in summary["recent"] if r.get("event_id")}
