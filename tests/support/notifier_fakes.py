"""Stand-ins for the notifier engine's scheduler and channels in unit tests (no I/O)."""

from __future__ import annotations

from collections.abc import Callable

from schemas.notification import Notification
from services.notifier.channels.base import SendJob
from services.notifier.domain.backoff import Outcome
from services.notifier.domain.directory import ContactPoint
from services.notifier.scheduler import Scheduler, Work


class Idle(Scheduler):
    """Runs nothing: the tests call the engine themselves."""

    def enqueue(self, lane: str, priority: int, work: Work) -> None:
        pass

    def at(self, delay_s: float, callback: Callable[[], None]) -> None:
        pass


class Lane:
    """A channel that must not be used: one lane per contact point."""

    async def send(self, job: SendJob) -> Outcome:
        raise AssertionError("not sending here")

    def lane_of(self, notification: Notification, contact_point: ContactPoint) -> str:
        return contact_point.id
