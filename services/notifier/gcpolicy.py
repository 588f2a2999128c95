"""The notifier process's garbage-collection policy: no full collection in the delivery path.

CPython's automatic full (generation 2) collection scans every tracked object, and the notifier
keeps its open and recent alerts in memory, about 45 tracked objects each (pydantic models, their
field sets, scheduler closures). At a few hundred thousand objects one such collection stops the
event loop for 0.2-1 s, and it comes whenever the old generation has grown by a quarter: every
few tens of seconds under steady traffic. Every alert consumed or delivered meanwhile waits; in
the benchmark that was most of the 1% delivery tail.

So, in the service process only (tests running the app in-process keep the defaults):
- the start-up heap (modules, classes, the state rebuilt from Kafka) is frozen out of the
  collector's scans, since it lives as long as the process;
- automatic collections stop at generation 1 (young garbage, the bulk of it, is still collected
  as usual);
- a full collection runs on a timer instead (``FULL_EVERY_S``), so the long pause is taken at
  a known, low rate. Objects are freed by reference counting as before; only cyclic
  garbage that outlived two young collections waits for the timer, which bounds it.
"""

from __future__ import annotations

import asyncio
import gc
import time

from services.common.logging import get_logger

log = get_logger(__name__)

NEVER = 1 << 30  # a generation-2 threshold no run of the process reaches
FULL_EVERY_S = 600.0


def settle_heap() -> None:
    """Call once the service has started: freeze what exists, stop automatic full collections."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, NEVER)


async def collect_periodically(every_s: float) -> None:
    """Until cancelled: one full collection every ``every_s`` seconds."""
    while True:
        await asyncio.sleep(every_s)
        started = time.perf_counter()
        found = gc.collect()
        paused_ms = round((time.perf_counter() - started) * 1000, 1)
        log.info("notifier.gc_full", unreachable=found, paused_ms=paused_ms)
