"""A service process's garbage-collection policy: the start-up heap frozen, fewer collections.

CPython's cyclic collector scans every tracked object of the generations it collects. Measured
under the benchmarks' loads:
- ingest: a request holds dozens of tracked objects (a batch: tens of thousands) while it waits
  for the broker; a young collection every 700 allocations scans and promotes them, and with
  the defaults the collector took about a fifth of the process's CPU;
- notifier: it keeps its open and recent alerts in memory (about 45 tracked objects each); an
  automatic full collection over a few hundred thousand objects stopped the event loop for
  0.2-1 s every few tens of seconds, most of the delivery tail;
- ingest at 500 single events/s: an automatic full collection every few seconds, 50-110 ms
  each, the whole p99 of an event's answer.

Policy (applied in the service process only; tests running an app in-process keep the defaults):
- the start-up heap (modules, classes, schemas, state rebuilt from Kafka) is frozen out of the
  scans, since it lives as long as the process;
- ``young_threshold`` raises the allocations between young collections (ingest, matcher:
  their per-request objects die young, so a large young generation is mostly garbage);
- a process that keeps what it allocates (the notifier: ``stateful_young_threshold``) does the
  opposite: small young and middle generations, since nearly all of them survives and a pause
  lasts as long as its generation is large (see ``STATEFUL_YOUNG_THRESHOLD``). Its full
  collection is rare too (``notifier_full_gc_s``, 6 h): it paused 0.8 s with 15,000 alerts in
  memory, and once the webhook client stopped leaving answer-parser cycles behind, it found no
  garbage;
- ``no_automatic_full`` stops automatic collections at generation 1, and
  ``collect_periodically`` takes the full collection on a timer instead, at a known, low rate.
  Objects are still freed by reference counting; only cyclic garbage waits longer.
Every service applies ``settle_service_heap`` and ``collect_periodically``.
"""

from __future__ import annotations

import asyncio
import gc
import time

from services.common.logging import get_logger

log = get_logger(__name__)

NEVER = 1 << 30  # a generation-2 threshold no run of the process reaches
# The services' policy (ingest, notifier). A young collection once 200,000 more objects are
# tracked than freed, not 700: over 50,000 ingest batch events young collections took 0.8 s at
# 50,000 and 0.04 s at 200,000; a bench-notifier run's collector time fell from 1.7 s to 0.9 s.
# At most ~20 MB of young garbage waits.
SERVICE_YOUNG_THRESHOLD = 200_000
SERVICE_FULL_EVERY_S = 600.0


# The notifier's: it keeps every alert it handles in memory, open for minutes (~45 tracked
# objects each; ~9,000 a second at 200 alerts/s), so nearly all of a young generation survives
# and a collection's pause grows with the threshold. bench-notifier, young collections of
# 200,000 objects: 250-280 ms every ~20 s, the p99 of 117-210 ms. At 5,000 with a middle
# collection every other time: 9-18 ms pauses, a few times a second. The collector's total work
# hardly depends on the threshold (each survivor is scanned twice before it is old, however
# often that happens): make bench, two runs each at 5,000, 20,000 and 200,000, gave the same
# notifier CPU per event within run-to-run noise (0.127-0.147 ms at 3,000 events/s offered).
# The notifier's default; RELAY_NOTIFIER_GC_YOUNG_THRESHOLD changes it.
STATEFUL_YOUNG_THRESHOLD = 5_000
STATEFUL_MIDDLE_THRESHOLD = 1


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
