"""Console channel: a review line in the notifier's log (no personal data)."""

from __future__ import annotations

from schemas.notification import Notification
from services.common.logging import get_logger
from services.notifier.channels.base import SendJob
from services.notifier.domain.backoff import Outcome, Verdict
from services.notifier.domain.directory import ContactPoint

log = get_logger(__name__)


class ConsoleChannel:
    def lane_of(self, notification: Notification, contact_point: ContactPoint) -> str:
        return "console"

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
