"""A service process's garbage-collection policy: the start-up heap frozen, fewer collections.

CPython's cyclic collector scans every tracked object of the generations it collects. Under
the benchmarks' loads (``make bench-ingest``, ``make bench-notifier``) that cost showed up as:
- ingest: a request holds dozens of tracked objects (a batch: tens of thousands) while it waits
  for the broker; with the defaults, young collections scanned and promoted them over and
  over, a large share of the process's CPU;
- the notifier keeps its open and recent alerts in memory; an automatic full collection over
  all of them stops the event loop long enough to be most of the delivery tail;
- an automatic full collection in ingest is the whole p99 of an event's answer.

Policy (applied in the service process only; tests running an app in-process keep the defaults):
- the start-up heap (modules, classes, schemas, state rebuilt from Kafka) is frozen out of the
  scans, since it lives as long as the process;
- ``young_threshold`` raises the allocations between young collections (ingest, matcher:
  their per-request objects die young, so a large young generation is mostly garbage);
- a process that keeps what it allocates (the notifier: ``stateful_young_threshold``) does the
  opposite: small young and middle generations, since nearly all of them survives and a pause
  lasts as long as its generation is large (see ``STATEFUL_YOUNG_THRESHOLD``). Its full
  collection is rare too (``notifier_full_gc_s``): it finds almost no garbage;
- ``no_automatic_full`` stops automatic collections at generation 1, and
  ``collect_periodically`` takes the full collection on a timer instead, at a known, low rate.
  Objects are still freed by reference counting; only cyclic garbage waits longer.
Every service applies ``settle_service_heap`` and ``collect_periodically``.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

from services.common.logging import get_logger

log = get_logger(__name__)

NEVER = 1 << 30  # a generation-2 threshold no run of the process reaches
# The services' policy (ingest, notifier): a young collection once 200,000 more objects are
# tracked than freed, not 700, so a batch's objects die before they are scanned; that leaves
# a few tens of MB of young garbage waiting at most.
SERVICE_YOUNG_THRESHOLD = 200_000
SERVICE_FULL_EVERY_S = 600.0


# The notifier's: it keeps every alert it handles in memory, open for minutes, so nearly all
# of a young generation survives and a collection's pause grows with the threshold. A small
# threshold makes short pauses, often; the collector's total work hardly depends on it (each
# survivor is scanned twice before it is old, however often that happens).
# The notifier's default; RELAY_NOTIFIER_GC_YOUNG_THRESHOLD changes it.
STATEFUL_YOUNG_THRESHOLD = 5_000
STATEFUL_MIDDLE_THRESHOLD = 1


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block: for building a large, long-lived, acyclic heap
    (a store's million people), which the collector would scan over and over for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def settle_heap(
    *,
    young_threshold: int | None = None,
    middle_threshold: int | None = None,
    no_automatic_full: bool = False,
) -> None:
    """Call once the service has started (before the first request or record)."""
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(
        young_threshold or young,
        middle_threshold or middle,
        NEVER if no_automatic_full else old,
    )


def settle_service_heap(*, stateful_young_threshold: int | None = None) -> None:
    """The services' policy: call once started; run ``collect_periodically`` beside it.
    ``stateful_young_threshold``: the process keeps much of what it allocates (the notifier's
    alerts), so its young collections stay this small and a middle one follows every other."""
    young, middle = (
        (stateful_young_threshold, STATEFUL_MIDDLE_THRESHOLD)
        if stateful_young_threshold is not None
        else (SERVICE_YOUNG_THRESHOLD, None)
    )
    settle_heap(young_threshold=young, middle_threshold=middle, no_automatic_full=True)


async def collect_periodically(service: str, every_s: float = SERVICE_FULL_EVERY_S) -> None:
    """Until cancelled: one full collection every ``every_s`` seconds."""
    while True:
        await asyncio.sleep(every_s)
        started = time.perf_counter()
        found = gc.collect()
        paused_ms = round((time.perf_counter() - started) * 1000, 1)
        log.info("gc.full_collection", service=service, unreachable=found, paused_ms=paused_ms)


def spare_exit() -> None:
    """Call when the service has stopped, just before the process exits. With automatic full
    collections off, the interpreter's final collections would scan the whole heap (a large
    in-memory state: longer than a grace period); frozen, it is left to the exit."""
    gc.freeze()
