"""Shutdown ends even when a task loses a cancellation (the Python 3.11 ``wait_for`` race)."""

from __future__ import annotations

import asyncio

from services.common.tasks import cancel_and_wait, finish_within


async def _loses_first_cancellation(started: asyncio.Event, stopped: asyncio.Event) -> None:
    swallowed = False
    while True:
        try:
            started.set()
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            if swallowed:
                stopped.set()
                raise
            swallowed = True  # as a wait_for that completed at the same moment would


async def _ignores_cancellation(started: asyncio.Event, release: asyncio.Event) -> None:
    while True:
        try:
            started.set()
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            if release.is_set():
                raise


async def _fails() -> None:
    raise ValueError("already failed")


async def test_a_task_that_swallows_one_cancellation_is_cancelled_again() -> None:
    started, stopped = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(_loses_first_cancellation(started, stopped))
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(cancel_and_wait([task], recancel_s=0.01), 5)
    assert stopped.is_set()
    assert task.cancelled()


async def test_a_task_that_never_stops_is_abandoned_after_the_grace_period() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    stubborn = asyncio.create_task(_ignores_cancellation(started, release))
    failed = asyncio.create_task(_fails())
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(cancel_and_wait([stubborn, failed], grace_s=0.1, recancel_s=0.02), 5)
    assert not stubborn.done()
    assert failed.done()
    release.set()  # leave nothing running for the tests after this one
    stubborn.cancel()
    await asyncio.wait([stubborn], timeout=5)
    assert stubborn.cancelled()


async def test_finish_within_nudges_until_the_work_ends() -> None:
    nudged = asyncio.Event()

    async def needs_a_nudge() -> str:
        await nudged.wait()
        return "stopped"

    await asyncio.wait_for(finish_within(needs_a_nudge(), "test", nudge=nudged.set), 5)
    assert nudged.is_set()


async def test_finish_within_abandons_work_that_never_ends() -> None:
    forever = asyncio.Event()
    await asyncio.wait_for(finish_within(forever.wait(), "test", grace_s=0.1), 5)
    assert not forever.is_set()
