"""A circuit breaker per endpoint: stop hammering a receiver that is down, probe it now and then.

closed --(N failures in a row)--> open --(cool-down over)--> half-open --(probe ok)--> closed
                                                                     \\--(probe fails)--> open
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class Breaker:
    failure_threshold: int = 5
    open_s: float = 10.0
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    probing: bool = False

    def allow(self, now: float) -> bool:
        """May a request go now? In half-open, exactly one probe at a time."""
        if self.state is BreakerState.OPEN and now - self.opened_at >= self.open_s:
            self.state = BreakerState.HALF_OPEN
            self.probing = False
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.HALF_OPEN and not self.probing:
            self.probing = True
            return True
        return False

    def retry_in(self, now: float) -> float:
        """Seconds until the breaker lets a request through (0 when closed)."""
        if self.state is BreakerState.OPEN:
            return max(0.0, self.open_s - (now - self.opened_at))
        return 0.0 if self.state is BreakerState.CLOSED else min(1.0, self.open_s)

    def success(self) -> None:
        self.state = BreakerState.CLOSED
        self.failures = 0
        self.probing = False

    def failure(self, now: float) -> None:
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN or self.failures >= self.failure_threshold:
            self.state = BreakerState.OPEN
            self.opened_at = now
            self.probing = False
