"""A job's changes written so that no restart loses an audit record: each change's records
(audit, dead letter) first, the job's state only once they are all stored.

A restart rebuilds memory from the stored states and redoes what they do not show as done.
A state stored before its audit (a SIGKILL between the two batches, a broker restart failing
one of them) would be a step done and never audited. So here:
- a job's state waits until every record of its changes is stored;
- a record or state that fails is written again (backing off) until it is stored;
- at most one state per job is on its way, and the newest pending one goes next: the topic's
  latest state is memory's latest, whatever failed in between.
A crash before the state is stored only means the step is done again after the restart (the
same webhook-id, another audit record of it): at least once, never lost.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka.errors import KafkaError

from schemas.notification import Notification
from services.common.fate import STORE_RETRY, RetryPolicy
from services.common.logging import get_logger
from services.notifier import metrics
from services.notifier.writer import Future, Record

log = get_logger(__name__)

# A job's state to write, and whether it carries the alert; None there: its tombstone (the
# job is forgotten, retention).
State = tuple[Notification, bool | None]
TOMBSTONE = None


class Sink(Protocol):
    """What the journal writes through (``writer.Writer``; a fake topic in unit tests)."""

    def write(self, record: Record) -> Future: ...

    def state(self, n: Notification, *, carry_alert: bool = False) -> Future: ...

    def tombstone(self, n: Notification) -> Future: ...


@dataclass(eq=False)
class _Job:
    unstored: int = 0  # records of its changes not yet stored
    pending: State | None = None  # the newest state not yet handed over
    has_pending: bool = False
    sending: bool = False  # a state is on its way
    retrying: int = 0  # writes waiting out a backoff
    waiters: list[Future] = field(default_factory=list)  # for the pending state
    sent_waiters: list[Future] = field(default_factory=list)  # for the state on its way


class Journal:
    def __init__(self, sink: Sink, backoff: RetryPolicy = STORE_RETRY) -> None:
        self.sink = sink
        self.backoff = backoff
        self.jobs: dict[str, _Job] = {}
        self.closing = False
        self.failing = False  # since the last write that failed, none was stored
        self._timers: set[asyncio.TimerHandle] = set()
        self._inflight: set[Future] = set()  # writes handed to the sink, not yet settled

    def change(
        self, n: Notification, records: Iterable[Record] = (), *, carry_alert: bool = False
    ) -> Future:
        """Write ``records``, then the job's state ``n``. The future resolves once this state
        (or a newer one of the job) is stored."""
        nid = n.notification_id
        job = self.jobs.get(nid)
        if job is None:
            job = self.jobs[nid] = _Job()
        for record in records:
            job.unstored += 1
            self._write_record(nid, job, record, 0)
        return self._set_state(nid, job, (n, carry_alert))

    def tombstone(self, n: Notification) -> Future:
        """Retention: the job's tombstone, after anything of it still on its way."""
        job = self.jobs.get(n.notification_id)
        if job is None:
            return self.sink.tombstone(n)
        return self._set_state(n.notification_id, job, (n, TOMBSTONE))

    def stored(self, notification_id: str) -> Future | None:
        """A future for the job's writes still on their way (None if there are none)."""
        job = self.jobs.get(notification_id)
        if job is None:
            return None
        waiter = _future()
        (job.waiters if job.has_pending else job.sent_waiters).append(waiter)
        return waiter

    def _set_state(self, nid: str, job: _Job, state: State) -> Future:
        job.pending, job.has_pending = state, True
        waiter = _future()
        job.waiters.append(waiter)
        self._hand_over(nid, job)
        return waiter

    # --- records ---------------------------------------------------------------------------

    def _write_record(self, nid: str, job: _Job, record: Record, failures: int) -> None:
        done = functools.partial(self._record_done, nid, job, record, failures)
        self._track(self.sink.write(record)).add_done_callback(done)

    def _record_done(
        self, nid: str, job: _Job, record: Record, failures: int, future: Future
    ) -> None:
        if self.jobs.get(nid) is not job:
            return  # given up on (closing)
        if _failed(future):
            retry = functools.partial(self._write_record, nid, job, record, failures + 1)
            self._retry(nid, job, failures, retry)
            return
        job.unstored -= 1
        self._stored_one()
        self._hand_over(nid, job)

    # --- states ----------------------------------------------------------------------------

    def _hand_over(self, nid: str, job: _Job) -> None:
        """The pending state, once nothing is on its way and every record is stored."""
        if job.sending or job.unstored or not job.has_pending:
            if not (job.sending or job.unstored or job.has_pending or job.retrying):
                del self.jobs[nid]
            return
        state, job.pending, job.has_pending = job.pending, None, False
        assert state is not None  # has_pending
        job.sent_waiters, job.waiters = job.waiters, []
        job.sending = True
        self._send_state(nid, job, state, 0)

    def _send_state(self, nid: str, job: _Job, state: State, failures: int) -> None:
        n, carry = state
        if carry is TOMBSTONE:
            future = self.sink.tombstone(n)
        else:
            future = self.sink.state(n, carry_alert=carry)
        done = functools.partial(self._state_done, nid, job, state, failures)
        self._track(future).add_done_callback(done)

    def _track(self, future: Future) -> Future:
        self._inflight.add(future)
        future.add_done_callback(self._inflight.discard)
        return future

    def _state_done(self, nid: str, job: _Job, state: State, failures: int, future: Future) -> None:
        if self.jobs.get(nid) is not job:
            return
        if not _failed(future):
            self._stored_one()
            job.sending = False
            for waiter in job.sent_waiters:
                _resolve(waiter)
            job.sent_waiters = []
        elif job.has_pending:  # a newer state replaces this one: no need to write it again
            job.waiters = job.sent_waiters + job.waiters
            job.sent_waiters, job.sending = [], False
        else:
            again = functools.partial(self._send_state, nid, job, state, failures + 1)
            self._retry(nid, job, failures, again)
            return
        self._hand_over(nid, job)

    # --- failures and shutdown ---------------------------------------------------------------

    def _retry(self, nid: str, job: _Job, failures: int, again: Callable[[], None]) -> None:
        """Write again after a backoff; when closing, give up (a restart redoes the step)."""
        if self.closing:
            self._give_up(nid, job)
            return
        metrics.WRITE_RETRIES.inc()
        if not self.failing:  # once per outage, not once per job
            self.failing = True
            log.warning("notifier.writes_failing", jobs_waiting=len(self.jobs))
        job.retrying += 1
        handle: asyncio.TimerHandle | None = None

        def fire() -> None:
            self._timers.discard(handle)
            job.retrying -= 1
            again()

        delay = self.backoff.delay(failures)
        handle = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(handle)

    def _stored_one(self) -> None:
        if self.failing:
            self.failing = False
            log.info("notifier.writes_recovered", jobs_waiting=len(self.jobs))

    def _give_up(self, nid: str, job: _Job) -> None:
        if self.jobs.get(nid) is job:
            del self.jobs[nid]
        error = KafkaError(f"notifier stopping: a write of {nid} was not stored")
        for waiter in (*job.sent_waiters, *job.waiters):
            if not waiter.done():
                waiter.set_exception(error)
                waiter.exception()  # retrieved: nobody may be waiting any more
        log.error("notification.write_abandoned", notification_id=nid)

    async def drain(self, flush: Callable[[], Awaitable[Any]]) -> None:
        """A handover: until what is on its way is stored (or failed). Jobs waiting out a
        backoff stay as they are; the new owner writes them again."""
        while True:
            await flush()
            if not self._inflight:
                return
            await asyncio.wait(list(self._inflight))
            await asyncio.sleep(0)  # their callbacks release the states they held back

    async def close(self, flush: Callable[[], Awaitable[Any]]) -> None:
        """Shutdown: no more retries. What is on its way is flushed (``flush``, the writer's),
        with the states it releases; a job waiting out a backoff is given up."""
        self.closing = True
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        for nid, job in list(self.jobs.items()):
            if job.retrying:
                self._give_up(nid, job)
        await self.drain(flush)


def _failed(future: Future) -> bool:
    return future.cancelled() or future.exception() is not None


def _resolve(waiter: Future) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _future() -> Future:
    return asyncio.get_running_loop().create_future()
