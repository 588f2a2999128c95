"""What a delivery outcome means, and when to try again."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # 5xx, 429, timeout, connection error
    PERMANENT = "permanent"  # any other 4xx: the request itself is wrong


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    status_code: int | None = None
    error: str | None = None
    retry_after_s: float | None = None  # what the receiver asked for, if anything
    duration_ms: float | None = None


def classify(status_code: int, retry_after: str | None, now: datetime) -> Outcome:
    if 200 <= status_code < 300:
        return Outcome(Verdict.DELIVERED, status_code)
    if status_code == 429 or status_code >= 500:
        wait = parse_retry_after(retry_after, now)
        return Outcome(Verdict.RETRY, status_code, f"HTTP {status_code}", wait)
    return Outcome(Verdict.PERMANENT, status_code, f"HTTP {status_code}")


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as delta-seconds or an HTTP date (RFC 9110 10.2.3); None if unusable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class Backoff:
    base_s: float = 1.0
    max_s: float = 300.0
    max_attempts: int = 30
    retry_after_cap_s: float = 3600.0  # a receiver may not park our pages for a day

    def delay(self, attempt: int, outcome: Outcome, rng: random.Random) -> float:
        """Exponential with full jitter, but never sooner than the receiver's Retry-After."""
        ceiling = min(self.max_s, self.base_s * 2 ** max(0, attempt - 1))
        jittered = rng.uniform(ceiling / 2, ceiling)
        if outcome.retry_after_s is not None:
            return max(jittered, min(outcome.retry_after_s, self.retry_after_cap_s))
        return jittered

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts
