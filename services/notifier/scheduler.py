"""Per-endpoint lanes and a timer heap: a retrying or slow endpoint never delays any other.

Every endpoint (webhook URL, SMTP relay, console) has its own priority queue and a few worker
tasks; urgent jobs (priority 0) overtake routine ones inside a lane. Retries and escalations
wait in one heap served by one timer task - nothing ever sleeps in a consumer loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from services.common.logging import get_logger
from services.common.tasks import cancel_and_wait

log = get_logger(__name__)

Work = Callable[[], Awaitable[None]]


# (priority, seq, work): a plain tuple orders in C, by priority then arrival (seq is unique, so
# work is never compared); the heap compares items a few times per job.
_Item = tuple[int, int, Work]


@dataclass
class Lane:
    name: str
    concurrency: int
    queue: asyncio.PriorityQueue[_Item] = field(default_factory=asyncio.PriorityQueue)
    workers: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        for index in range(self.concurrency):
            task = asyncio.create_task(self._work(), name=f"lane:{self.name}:{index}")
            self.workers.append(task)

    async def _work(self) -> None:
        while True:
            _, _, work = await self.queue.get()
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug in one job must not kill the lane; the job is logged
                log.exception("lane.job_failed", lane=self.name)
            finally:
                self.queue.task_done()


@dataclass
class Scheduler:
    concurrency: int = 8
    lanes: dict[str, Lane] = field(default_factory=dict)
    _timers: list[tuple[float, int, Callable[[], None]]] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run_timers(), name="scheduler-timers")

    async def stop(self) -> None:
        tasks = [t for lane in self.lanes.values() for t in lane.workers]
        if self._task is not None:
            tasks.append(self._task)
        await cancel_and_wait(tasks)

    def enqueue(self, lane: str, priority: int, work: Work) -> None:
        found = self.lanes.get(lane)
        if found is None:
            found = self.lanes[lane] = Lane(lane, self.concurrency)
            found.start()
        found.queue.put_nowait((priority, next(self._seq), work))

    def at(self, delay_s: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` (quick, synchronous: it enqueues) after ``delay_s`` seconds."""
        due = asyncio.get_running_loop().time() + max(0.0, delay_s)
        heapq.heappush(self._timers, (due, next(self._seq), callback))
        self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._timers) + sum(lane.queue.qsize() for lane in self.lanes.values())

    async def _run_timers(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            now = loop.time()
            while self._timers and self._timers[0][0] <= now:
                _, _, callback = heapq.heappop(self._timers)
                callback()
            timeout = self._timers[0][0] - now if self._timers else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
