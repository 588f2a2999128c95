"""Every kind of dead letter is counted by the service that writes it, where it writes it.

The three real services run as ``python -m services.X`` (``tests.support.stack``). The test
forces each kind of dead letter: an undecodable record on ingest's raw intake, on the matcher's
events topic and on ``alerts`` (the notifier); a bad record on ``watchlist.entries`` for the
notifier and for the matcher's retro-screening; and an alert whose delivery ends in the
notifier's dead letters (a contact point's webhook answers a permanent 4xx). Then it scrapes
each service's ``/metrics`` over HTTP: ``relay_dead_letters_total{service,topic}`` equals the
dead-letter records of that service, by the topic they were read from, and the notifier
exports its events in (alerts consumed) and out (delivery jobs routed).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from schemas.alert import Alert, alert_key
from schemas.codec import encode, schema_header
from schemas.headers import H_SERVICE, H_TOPIC
from schemas.topics import TopicName
from services.common.fate import header
from services.common.kafka import make_consumer, make_producer, partitions_of
from services.common.settings import CommonSettings
from services.common.topic_read import Record, read, to_end
from tests.support.kafka_io import TopicReader, produce_json
from tests.support.notifier_data import make_alert
from tests.support.stack import Stack, StackSpec, edit_directory, open_stack

pytestmark = pytest.mark.timeout(300)

Labels = tuple[str, str]  # (service, topic read), the labels the rule and the dashboard use
SERVICES = ("ingest", "matcher", "notifier")
DLQS: tuple[TopicName, ...] = (
    "ingest.raw.dlq",
    "events.dlq",
    "alerts.dlq",
    "watchlist.entries.dlq",
)
UNDELIVERABLE = "ncb-kaz"  # its webhook answers 401 (a path the receiver does not know)
# Each kind of dead letter: (service, catalogue name of the topic read) -> at least this many.
KINDS: dict[tuple[str, TopicName], int] = {
    ("ingest", "ingest.raw"): 1,
    ("matcher", "events.border_crossing"): 1,
    ("matcher", "watchlist.entries"): 1,  # retro-screening
    ("notifier", "watchlist.entries"): 1,
    ("notifier", "alerts"): 2,  # a bad record, and the alert it could not deliver
}


@pytest.fixture
def stack(topics: CommonSettings, tmp_path: Path) -> Iterator[Stack]:
    spec = StackSpec(topics.kafka_bootstrap, topics.topic_prefix, persons=50, sltd=50)
    with open_stack(spec, tmp_path) as built:
        # The receiver learns its paths from the directory as it starts; the notifier, started
        # after the edit, sends the contact point's webhooks to a path it does not know.
        built.processes["receiver"].start()
        built.wait_ready("receiver")
        _break_webhook(built)
        for name in SERVICES:
            built.processes[name].start()
        yield built


def _break_webhook(stack: Stack) -> None:
    raw = yaml.safe_load((stack.demo / "contact-points.yaml").read_text("utf-8"))
    [point] = [p for p in raw["contact_points"] if p["id"] == UNDELIVERABLE]
    webhook = {**point["webhook"], "url": stack.url("receiver", "/hooks/NOWHERE")}
    edit_directory(stack.demo, {UNDELIVERABLE: {"webhook": webhook}})


def scrape(stack: Stack, service: str) -> dict[tuple[str, Labels], float]:
    """(sample name, (service, topic)) -> value, for the series labelled with both."""
    text = httpx.get(stack.url(service, "/metrics"), timeout=5).raise_for_status().text
    found: dict[tuple[str, Labels], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if "service" in sample.labels and "topic" in sample.labels:
                labels = (sample.labels["service"], sample.labels["topic"])
                found[(sample.name, labels)] = sample.value
    return found


def counted(stack: Stack) -> Counter[Labels]:
    """``relay_dead_letters_total`` of every service, as each one's /metrics says."""
    found: Counter[Labels] = Counter()
    for service in SERVICES:
        for (name, labels), value in scrape(stack, service).items():
            if name == "relay_dead_letters_total" and value:
                assert labels[0] == service, f"{service} counts {labels}"
                found[labels] += int(value)
    return found


async def stored_dead_letters(topics: CommonSettings) -> list[Record]:
    """Every record on the dead-letter topics now."""
    found: list[Record] = []
    async with make_consumer(topics, group_id=None) as consumer:
        partitions = await partitions_of(topics, *(topics.topic(d) for d in DLQS))
        async for batch in read(consumer, await to_end(consumer, partitions)):
            found += batch
    return found


def origin(record: Record, alerts: str) -> Labels:
    """Who dead-lettered the record, and from which topic. An alert the notifier could not
    deliver carries no original topic: it counts as a dead letter of its alerts topic."""
    return header(record, H_SERVICE) or "", header(record, H_TOPIC) or alerts


async def settled(topics: CommonSettings, stack: Stack) -> tuple[Counter[Labels], list[Record]]:
    """Until the stored dead letters show every kind and the services' counters equal them
    (a counter follows its write by microseconds; a scrape is another process's view)."""
    want = {(service, topics.topic(name)): n for (service, name), n in KINDS.items()}
    deadline = time.monotonic() + 60
    while True:
        records = await stored_dead_letters(topics)
        letters = Counter(origin(r, topics.topic("alerts")) for r in records)
        got = await asyncio.to_thread(counted, stack)
        if got == letters and all(letters[k] >= n for k, n in want.items()):
            return letters, records
        if time.monotonic() > deadline:
            raise AssertionError(f"counted {dict(got)}, dead letters {dict(letters)}")
        await asyncio.sleep(0.2)  # polling other processes' counters, bounded by the deadline


async def force_retro_dead_letter(topics: CommonSettings) -> None:
    """The retro-screening group starts at the end of ``watchlist.entries`` when it first
    joins: an entry written before it has its position is never read. So the bad entry is
    written again until the matcher has dead-lettered one."""
    entries = topics.topic("watchlist.entries")
    async with TopicReader(topics, topics.topic("watchlist.entries.dlq")) as dlq:
        for _ in range(10):
            await produce_json(topics, entries, [("RED-BROKEN-1", b"not an entry")])
            try:
                await dlq.until(lambda rs: any(header(r, H_SERVICE) == "matcher" for r in rs), 5)
            except TimeoutError:
                continue
            return
    raise TimeoutError("the matcher never dead-lettered the bad entry")


async def produce_bad_records(topics: CommonSettings) -> None:
    t = topics.topic
    bad = [("BROKEN-1", b"\xff not json")]
    await produce_json(topics, t("ingest.raw"), bad)  # no agency, no signature, no JSON
    await produce_json(topics, t("events.border_crossing"), bad)
    await produce_json(topics, t("alerts"), bad)
    async with make_producer(topics) as producer:
        # A tombstone whose key is not UTF-8: the notifier cannot name the entry to cancel.
        await producer.send_and_wait(t("watchlist.entries"), None, key=b"\xff\xfe")


async def produce_alert(topics: CommonSettings, alert: Alert) -> None:
    item = (alert_key(alert.entry_id).decode(), encode(alert))
    await produce_json(topics, topics.topic("alerts"), [item], headers=[schema_header(Alert)])


async def routed_jobs(topics: CommonSettings) -> int:
    """Jobs routed, read once one was dead-lettered: an alert's audit records share a
    partition, so its routed ones are stored before its dead-lettered one."""

    def actions(records: list[Record]) -> list[str]:
        return [orjson.loads(r.value)["action"] for r in records if r.value is not None]

    async with TopicReader(topics, topics.topic("notifications.audit")) as audit:
        records = await audit.until(lambda rs: "dead_lettered" in actions(rs), 60)
    return actions(records).count("routed")


async def test_every_dead_letter_is_counted_by_the_service_that_wrote_it(
    topics: CommonSettings, stack: Stack
) -> None:
    await asyncio.to_thread(stack.ready)
    await produce_bad_records(topics)
    await produce_alert(topics, make_alert(country="KAZ", issuer="UZB"))
    await force_retro_dead_letter(topics)
    jobs = await routed_jobs(topics)

    letters, records = await settled(topics, stack)
    alerts = topics.topic("alerts")
    undeliverable = [r for r in records if header(r, "relay-recipient") == UNDELIVERABLE]
    assert [origin(r, alerts) for r in undeliverable] == [("notifier", alerts)]
    assert "HTTP 401" in (header(undeliverable[0], "relay-dlq-reason") or "")
    assert letters["notifier", alerts] == 2

    notifier = await asyncio.to_thread(scrape, stack, "notifier")
    assert notifier[("relay_events_in_total", ("notifier", alerts))] == 2
    assert jobs >= 1
    assert notifier[("relay_events_out_total", ("notifier", "notifications.deliveries"))] == jobs
