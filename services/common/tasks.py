"""Stopping background tasks so that shutdown always ends.

On Python 3.11 ``asyncio.wait_for`` can swallow a cancellation when its inner future completes
at the same moment (fixed in 3.12); aiokafka uses ``wait_for`` throughout, so a single
``task.cancel()`` now and then leaves a ``while True`` task running and an ``await task`` that
never returns. Here a task that is still running after a short wait is cancelled again, and
after ``grace_s`` it is abandoned with a log line instead of hanging the shutdown. aiokafka's
own shutdown has the same flaw (aio-libs/aiokafka#983: its fetcher suppresses CancelledError
while it awaits a sub-task), which ``finish_within`` works around from outside.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from services.common.logging import get_logger

log = get_logger(__name__)

NUDGE_S = 0.25


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[Any]], grace_s: float = 10.0, recancel_s: float = 0.5
) -> None:
    """Cancel ``tasks`` and wait for them, repeating the cancellation; never raises."""
    tasks = list(tasks)
    if not tasks:
        return

    def cancel_again() -> None:
        for task in tasks:
            task.cancel()  # a no-op for tasks already done

    cancel_again()
    names = ",".join(sorted(t.get_name() for t in tasks if not t.done()))
    # gather(return_exceptions=True) also retrieves failures: no "never retrieved" noise.
    everything = asyncio.gather(*tasks, return_exceptions=True)
    await finish_within(everything, f"tasks:{names}", cancel_again, grace_s, recancel_s)


async def finish_within(
    work: Awaitable[Any],
    what: str,
    nudge: Callable[[], None] | None = None,
    grace_s: float = 15.0,
    nudge_s: float = NUDGE_S,
) -> None:
    """Await ``work``, calling ``nudge`` every ``nudge_s`` while it runs; abandon it (logged)
    after ``grace_s``. For library shutdown paths that can lose a cancellation internally."""
    running = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace_s
    while True:
        done, _ = await asyncio.wait({running}, timeout=min(nudge_s, grace_s))
        if done:
            running.result()
            return
        if loop.time() >= deadline:
            running.cancel()
            log.warning("shutdown.abandoned", what=what, after_s=grace_s)
            return
        if nudge is not None:
            nudge()
