"""The journal: a job's state is written only once its audit records are stored, failed writes
are written again, and the topic's latest state of a job is always memory's latest."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from aiokafka.errors import KafkaError, KafkaTimeoutError

from schemas.notification import Channel, Notification, NotificationState
from services.common.fate import RetryPolicy
from services.notifier.journal import Journal
from services.notifier.writer import Future, Record

FAST = RetryPolicy.forever(base_delay_s=0.001, max_delay_s=0.002)
WAIT_S = 2.0


@dataclass
class Write:
    what: str  # "record:<value>", "state:<state>" or "tombstone"
    future: Future


@dataclass
class Broker:
    """Every write waits for the test to store or fail it; ``auto`` stores at once."""

    writes: list[Write] = field(default_factory=list)
    auto: bool = False
    stored: list[str] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def _add(self, what: str) -> Future:
        future: Future = asyncio.get_running_loop().create_future()
        self.writes.append(Write(what, future))
        self.arrived.set()
        if self.auto:
            self.store(what)
        return future

    def write(self, record: Record) -> Future:
        return self._add(f"record:{record.value.decode()}")

    def state(self, n: Notification, *, carry_alert: bool = False) -> Future:
        return self._add(f"state:{n.state.value}")

    def tombstone(self, n: Notification) -> Future:
        return self._add("tombstone")

    def open(self) -> list[str]:
        return [w.what for w in self.writes if not w.future.done()]

    def store(self, what: str) -> None:
        self._take(what).set_result(None)
        self.stored.append(what)

    def fail(self, what: str) -> None:
        self._take(what).set_exception(KafkaTimeoutError())

    def _take(self, what: str) -> Future:
        return next(w.future for w in self.writes if w.what == what and not w.future.done())

    async def until_open(self, what: str) -> None:
        async with asyncio.timeout(WAIT_S):
            while what not in self.open():
                self.arrived.clear()
                await self.arrived.wait()


def job(state: NotificationState = NotificationState.PENDING, nid: str = "") -> Notification:
    at = datetime.now(UTC)
    return Notification(
        notification_id=nid or f"n-{uuid.uuid4().hex}", alert_id=f"a-{uuid.uuid4().hex}",
        recipient="KAZ-NCB", country="KAZ", channel=Channel.WEBHOOK,
        state=state, created_at=at, updated_at=at,
    )  # fmt: skip


def audit(name: str) -> Record:
    return Record("audit", b"k", name.encode(), [])


async def settled() -> None:
    """Let the done-callbacks already scheduled run (they are scheduled, not called, when a
    future resolves, and run first in, first out), and those they schedule in turn."""
    loop = asyncio.get_running_loop()
    for _ in range(5):
        marker: Future = loop.create_future()
        loop.call_soon(marker.set_result, None)
        await marker


async def test_state_waits_until_every_record_is_stored() -> None:
    broker = Broker()
    journal = Journal(broker, FAST)
    done = journal.change(job(NotificationState.DELIVERED), [audit("sent"), audit("delivered")])
    assert broker.open() == ["record:sent", "record:delivered"]
    broker.store("record:sent")
    await settled()
    assert broker.open() == ["record:delivered"]  # no state while an audit is on its way
    broker.store("record:delivered")
    await broker.until_open("state:delivered")
    assert not done.done()
    broker.store("state:delivered")
    await asyncio.wait_for(done, WAIT_S)
    assert broker.stored == ["record:sent", "record:delivered", "state:delivered"]
    assert not journal.jobs  # nothing kept once stored


async def test_a_failed_record_is_written_again_before_the_state() -> None:
    broker = Broker()
    journal = Journal(broker, FAST)
    done = journal.change(job(NotificationState.DELIVERED), [audit("delivered")])
    broker.fail("record:delivered")
    await broker.until_open("record:delivered")  # written again after the backoff
    assert "state:delivered" not in broker.open()
    broker.auto = True
    broker.store("record:delivered")
    await asyncio.wait_for(done, WAIT_S)
    assert broker.stored == ["record:delivered", "state:delivered"]


async def test_a_failed_state_is_written_again() -> None:
    broker = Broker(auto=False)
    journal = Journal(broker, FAST)
    done = journal.change(job(NotificationState.PENDING))
    broker.fail("state:pending")
    await broker.until_open("state:pending")
    broker.store("state:pending")
    await asyncio.wait_for(done, WAIT_S)
    assert broker.stored == ["state:pending"]


async def test_one_state_on_its_way_per_job_and_the_newest_goes_next() -> None:
    broker = Broker()
    journal = Journal(broker, FAST)
    nid = f"n-{uuid.uuid4().hex}"
    first = journal.change(job(NotificationState.PENDING, nid))
    failed = journal.change(job(NotificationState.FAILED, nid))
    delivered = journal.change(job(NotificationState.DELIVERED, nid))
    assert broker.open() == ["state:pending"]
    broker.fail("state:pending")  # a newer state replaces it: not written again
    await broker.until_open("state:delivered")
    broker.store("state:delivered")
    await asyncio.wait_for(asyncio.gather(first, failed, delivered), WAIT_S)
    assert broker.stored == ["state:delivered"]
    assert [w.what for w in broker.writes] == ["state:pending", "state:delivered"]


async def test_a_tombstone_follows_the_state_on_its_way() -> None:
    broker = Broker()
    journal = Journal(broker, FAST)
    n = job(NotificationState.DELIVERED)
    journal.change(n)
    gone = journal.tombstone(n)
    assert broker.open() == ["state:delivered"]
    broker.store("state:delivered")
    await broker.until_open("tombstone")
    broker.store("tombstone")
    await asyncio.wait_for(gone, WAIT_S)
    assert broker.stored == ["state:delivered", "tombstone"]


async def test_stored_waits_for_the_writes_still_on_their_way() -> None:
    broker = Broker()
    journal = Journal(broker, FAST)
    n = job()
    journal.change(n, [audit("routed")])
    earlier = journal.stored(n.notification_id)
    assert earlier is not None
    broker.auto = True
    broker.store("record:routed")
    await asyncio.wait_for(earlier, WAIT_S)
    assert broker.stored == ["record:routed", "state:pending"]
    assert journal.stored(n.notification_id) is None


async def test_closing_flushes_what_is_on_its_way_and_gives_up_on_retries() -> None:
    broker = Broker()
    journal = Journal(broker, RetryPolicy.forever(base_delay_s=60, max_delay_s=60))
    retrying, flowing = job(), job()
    lost = journal.change(retrying, [audit("lost")])
    kept = journal.change(flowing, [audit("kept")])
    broker.fail("record:lost")  # waits out a long backoff
    await settled()
    broker.auto = True  # the broker stores whatever reaches it from now on

    async def handed_over() -> None:  # the writer's flush: its batches reach the producer
        pass

    closing = asyncio.ensure_future(journal.close(handed_over))
    broker.store("record:kept")  # on its way before closing began
    await asyncio.wait_for(closing, WAIT_S)
    await asyncio.wait_for(kept, WAIT_S)
    with pytest.raises(KafkaError):
        await lost  # not stored: a restart redoes the step (the state was never written)
    assert broker.stored == ["record:kept", "state:pending"]
    assert not journal.jobs


async def test_closing_waits_for_writes_the_producer_still_holds() -> None:
    """The writer's flush returns once its batches are handed to the producer, before they are
    stored: closing waits for the writes themselves (and the state they release)."""
    broker = Broker()
    journal = Journal(broker, FAST)
    done = journal.change(job(), [audit("routed")])

    async def handed_over() -> None:
        pass

    closing = asyncio.ensure_future(journal.close(handed_over))
    await settled()
    assert not closing.done()  # the audit record is still on its way
    broker.store("record:routed")
    await broker.until_open("state:pending")
    broker.store("state:pending")
    await asyncio.wait_for(closing, WAIT_S)
    await asyncio.wait_for(done, WAIT_S)
    assert broker.stored == ["record:routed", "state:pending"]
