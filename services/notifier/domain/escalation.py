"""Escalation: who is next when an urgent alert is not acknowledged in time.

Level 0 is the first page (the event country's primary contact point). Each missed deadline
moves one step along the country's chain - primary, backup, coordination centre - skipping any
step the alert may not be disseminated to. An acknowledgement stops the chain.
"""

from __future__ import annotations

from schemas.alert import Alert
from services.notifier.domain.directory import ContactPoint, Directory


def next_step(alert: Alert, directory: Directory, level: int) -> tuple[int, ContactPoint] | None:
    """The (level, contact point) after ``level``, or None when the chain is exhausted."""
    chain = directory.chain_of(alert.country)
    for index in range(level + 1, len(chain)):
        if alert.may_disseminate_to(chain[index].country):
            return index, chain[index]
    return None
