"""What every channel offers: send one notification, report what happened."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from schemas.alert import Alert
from schemas.notification import Notification
from services.common.logging import get_logger
from services.notifier.domain.backoff import Outcome, Verdict
from services.notifier.domain.directory import ContactPoint

log = get_logger(__name__)


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


class OwnedSender(ChannelSender, Protocol):
    """A sender as the service owns it: closed on shutdown (its connections, its pools)."""

    async def aclose(self) -> None: ...


async def send_safely(channel: ChannelSender, job: SendJob) -> Outcome:
    """A channel's own faults (a bug, a secret that cannot sign, a library's surprise) become a
    retry, so the backoff dead-letters the job in the end: never a job silently dropped. The
    only broad catch on the delivery path."""
    try:
        return await channel.send(job)
    except Exception as exc:  # noqa: BLE001 - see the docstring
        log.warning("notifier.channel_failed", error=type(exc).__name__)
        return Outcome(Verdict.RETRY, error=f"channel error: {type(exc).__name__}")
