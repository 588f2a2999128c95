"""Simulated traffic into a JSONL file on a simulated clock (for ``relay analyse``, benchmarks).

``count`` events are spread evenly over ``span`` from ``start``: the clock of each event is
its share of the span, so days of traffic take seconds to write.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import orjson

from services.demo.simulate import Generated, Simulator


@dataclass(frozen=True)
class Clock:
    start: dt.datetime
    span: dt.timedelta
    count: int

    def at(self, n: int) -> dt.datetime:
        return self.start + self.span * (n / self.count)


def write_events(
    sim: Simulator,
    clock: Clock,
    out: IO[bytes],
    record: Callable[[Generated], None] | None = None,
) -> Counter[str]:
    """Write ``clock.count`` events, one JSON object a line; what sorts were written."""
    sorts: Counter[str] = Counter()
    for n in range(clock.count):
        item = sim.next(clock.at(n))
        value = item.value if isinstance(item.value, bytes) else orjson.dumps(item.value)
        out.write(value + b"\n")
        sorts[item.sort.value] += 1
        if record is not None:
            record(item)
    return sorts
