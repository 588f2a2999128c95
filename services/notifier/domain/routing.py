"""Who receives an alert, over which channels, and how urgently.

Recipients: the country where the event happened (it can act now), the entry's issuer (it
asked) and, for urgent alerts, the 24/7 coordination centre. `dissemination.restricted_to` is
checked here and again right before each send (`may_send`), so no path reaches a country the
issuer did not allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.alert import Alert, Band, Urgency
from schemas.notification import (
    Channel,
    NoticeKind,
    Notification,
    NotificationState,
    notification_id_for,
)
from services.notifier.domain.directory import ContactPoint, Directory


def priority_of(notification: Notification, alert: Alert | None = None) -> int:
    """0 goes first. Urgent pages, escalations and cancellations never wait behind routine.

    ``alert``: the job's alert when the job record does not carry it (see ``Inbox``)."""
    if notification.notice in (NoticeKind.ESCALATION, NoticeKind.CANCELLATION):
        return 0
    alert = alert or notification.alert
    if alert is None:
        return 1
    if alert.urgent:
        return 0
    return 2 if alert.urgency is Urgency.LOW or alert.band is Band.POSSIBLE else 1


def may_send(notification: Notification, alert: Alert | None = None) -> bool:
    """The last check before any byte leaves: fail closed when the alert is not at hand."""
    alert = alert or notification.alert
    if alert is None or alert.alert_id != notification.alert_id:
        return False
    return alert.may_disseminate_to(notification.country)


def recipients(alert: Alert, directory: Directory) -> list[ContactPoint]:
    """Event country, issuer, coordination centre when urgent; never outside dissemination."""
    found: list[ContactPoint] = []
    for cp in (directory.primary_of(alert.country), directory.primary_of(alert.issuer)):
        if cp is not None and cp not in found:
            found.append(cp)
    centre = directory.coordination
    if alert.urgent and centre is not None and centre not in found:
        found.append(centre)
    return [cp for cp in found if alert.may_disseminate_to(cp.country)]


def channels_for(cp: ContactPoint, alert: Alert, notice: NoticeKind) -> list[tuple[Channel, str]]:
    """(channel, address) pairs, in the channels' order; each channel's rule decides (e.g.
    pagers only for strong first pages, escalations and cancellations)."""
    found: list[tuple[Channel, str]] = []
    for reach in cp.reach:
        address = reach.spec.select(reach.value, cp, alert, notice)
        if address is not None:
            found.append((reach.spec.channel, address))
    return found


@dataclass(frozen=True)
class Plan:
    """What to route: the alert, as which notice, at what time, with which escalation delay."""

    alert: Alert
    now: datetime
    notice: NoticeKind = NoticeKind.ALERT
    ack_delay: timedelta | None = None  # set for urgent alerts that must be acknowledged
    dedup_key: str | None = None
    level: int = 0


def notifications_for(plan: Plan, targets: list[ContactPoint]) -> list[Notification]:
    """One PENDING job per (recipient, channel); ids are stable, so routing twice is harmless."""
    alert = plan.alert
    suffix = "" if plan.notice is NoticeKind.ALERT else f"#{plan.notice.value}{plan.level or ''}"
    deadline = plan.now + plan.ack_delay if plan.ack_delay is not None else None
    jobs: list[Notification] = []
    for cp in targets:
        if not alert.may_disseminate_to(cp.country):
            continue
        for channel, address in channels_for(cp, alert, plan.notice):
            jobs.append(
                Notification(
                    notification_id=notification_id_for(alert.alert_id, cp.id, channel + suffix),
                    alert_id=alert.alert_id,
                    recipient=cp.id,
                    country=cp.country,
                    channel=channel,
                    address=address,
                    state=NotificationState.PENDING,
                    created_at=plan.now,
                    updated_at=plan.now,
                    ack_deadline=deadline,
                    escalation_level=plan.level,
                    notice=plan.notice,
                    entry_id=alert.entry_id,
                    dedup_key=plan.dedup_key,
                    alert=alert,
                )
            )
    return jobs


def route(plan: Plan, directory: Directory) -> list[Notification]:
    return notifications_for(plan, recipients(plan.alert, directory))
