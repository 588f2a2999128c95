"""What the notifier keeps in memory: everything open, and closed alerts only for a while.

Open alerts (a job pending or retrying, an escalation running) stay until they close. Closed
alerts stay for the memory window, at most ``closed_per_country`` of them per country (newest
first), so the console's inbox shows recent ones; then they are evicted. They remain on the
compacted deliveries topic until the retention tombstones them, and an answer or a
cancellation for one reads them back from there (``Engine.recall``). Memory is thus bounded by
the alert rate times the window, and by the cap, whatever the retention.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.notifier.domain.inbox import _EPOCH, AlertView, Inbox


@dataclass(frozen=True)
class MemoryPolicy:
    window: timedelta = timedelta(minutes=15)
    closed_per_country: int = 1000


def to_evict(inbox: Inbox, now: datetime, policy: MemoryPolicy) -> list[str]:
    """Closed alerts past the window, or past the cap in every country that received them."""
    return choose_evictions(closed_among(inbox.alerts.values()), now, policy)


def evictable(view: AlertView) -> bool:
    """Closed, or holding no job at all."""
    return not view.notifications or view.closed


def closed_among(views: Iterable[AlertView]) -> list[AlertView]:
    """The views eviction may take."""
    return [v for v in views if evictable(v)]


def choose_evictions(closed: list[AlertView], now: datetime, policy: MemoryPolicy) -> list[str]:
    """Of these closed views: those past the window, or past the cap in all their countries."""
    closed = sorted(closed, key=lambda v: v.last_change or _EPOCH, reverse=True)
    cutoff = now - policy.window
    kept: Counter[str] = Counter()
    out: list[str] = []
    for view in closed:
        countries = view.countries
        old = (view.last_change or _EPOCH) < cutoff
        if old or all(kept[c] >= policy.closed_per_country for c in countries):
            out.append(view.alert_id)
            continue
        kept.update(countries)
    return out
