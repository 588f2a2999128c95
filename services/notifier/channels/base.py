"""What every channel offers: send one notification, report what happened."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from schemas.alert import Alert
from schemas.notification import Notification
from services.notifier.domain.backoff import Outcome
from services.notifier.domain.directory import ContactPoint


@dataclass(frozen=True)
class SendJob:
    notification: Notification
    alert: Alert
    contact_point: ContactPoint
    ack_url: str | None


class ChannelSender(Protocol):
    async def send(self, job: SendJob) -> Outcome: ...

    def lane_of(self, notification: Notification, contact_point: ContactPoint) -> str:
        """The endpoint this job queues behind: one slow endpoint never delays another."""
        ...
