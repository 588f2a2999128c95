"""Console channel: a review line in the notifier's log (no personal data).

Directory field ``console: true``.
"""

from __future__ import annotations

from schemas.alert import Alert
from schemas.notification import Channel, NoticeKind, Notification
from services.common.logging import get_logger
from services.notifier.channels.base import SendJob
from services.notifier.domain.backoff import Outcome, Verdict
from services.notifier.domain.directory import ChannelSpec, ContactPoint
from services.notifier.settings import NotifierSettings

log = get_logger(__name__)


def _address(on: bool, cp: ContactPoint, alert: Alert, notice: NoticeKind) -> str | None:
    return cp.id if on else None


SPEC = ChannelSpec[bool](Channel.CONSOLE, "console", bool, False, _address)


class ConsoleChannel:
    def lane_of(self, notification: Notification, contact_point: ContactPoint) -> str:
        return "console"

    async def aclose(self) -> None:
        pass

    async def send(self, job: SendJob) -> Outcome:
        a = job.alert
        log.warning(
            "notification.console",
            notification_id=job.notification.notification_id,
            notice=job.notification.notice.value,
            recipient=job.contact_point.id,
            alert_id=a.alert_id,
            entry_id=a.entry_id,
            list=a.list.value,
            band=a.band.value,
            urgency=a.urgency.value,
            country=a.country,
        )
        return Outcome(Verdict.DELIVERED)


def sender(settings: NotifierSettings) -> ConsoleChannel:
    return ConsoleChannel()
