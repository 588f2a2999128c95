"""Token buckets, one per agency; time is passed in, so the maths is pure and testable."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; one token per event."""

    rate: float
    burst: float
    tokens: float
    updated: float

    @classmethod
    def full(cls, rate: float, burst: float, now: float) -> TokenBucket:
        return cls(rate=rate, burst=burst, tokens=burst, updated=now)

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def take(self, count: int, now: float) -> float:
        """Take ``count`` tokens and return 0, or take none and return seconds to wait.

        A request larger than the whole bucket can never pass; it is told to wait for a
        full bucket, and the caller should split it.
        """
        self._refill(now)
        if count <= self.tokens:
            self.tokens -= count
            return 0.0
        missing = min(count, self.burst) - self.tokens
        return max(missing / self.rate, 0.001)


def retry_after_header(seconds: float) -> str:
    """Retry-After is whole seconds; round up so an honest client never comes back too soon."""
    return str(max(1, math.ceil(seconds)))
