"""The in-memory view of alerts and their notifications, per country.

This is what the ack API checks ("was this contact point a recipient?"), what escalation and
cancellation look up, and what a duty-officer console can render: ``Inbox.for_country("KAZ")``
lists the alerts that country received, newest first, each with its notification states and
acknowledgements. It is rebuilt at start from ``notifications.deliveries`` and kept current by
every state change; it does no I/O.

It holds open alerts and recently closed ones only (``domain.memory``: the memory window, a cap
per country). So the console shows open alerts and the recent closed ones; an older closed
alert is no longer listed there (its page answers 404), but the ack API and the signed e-mail
links still take answers to it, and a cancelled entry still reaches it: the engine reads its
jobs back from the topic until the retention tombstones them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from schemas.alert import Alert
from schemas.notification import (
    AckKind,
    Acknowledgement,
    NoticeKind,
    Notification,
    NotificationState,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# An enum member read from its class costs a few hundred ns (Python 3.11); these run per job.
_ACKNOWLEDGED = NotificationState.ACKNOWLEDGED
_CANNOT_ACT = AckKind.CANNOT_ACT

FINAL_STATES = frozenset(
    {
        NotificationState.DELIVERED,
        NotificationState.ACKNOWLEDGED,
        NotificationState.CANCELLED,
        NotificationState.DEAD_LETTERED,
    }
)


@dataclass
class AlertView:
    alert_id: str
    entry_id: str | None = None
    alert: Alert | None = None
    # The one job whose stored records carry the alert; the others are stored compact (ids and
    # state) and take the alert from here, so each alert is written about twice, not per job.
    carrier: str | None = None
    notifications: dict[str, Notification] = field(default_factory=dict)
    acks: list[Acknowledgement] = field(default_factory=list)
    escalation_level: int = 0
    escalation_due: datetime | None = None
    cancelled: bool = False

    @property
    def recipients(self) -> set[str]:
        return {n.recipient for n in self.notifications.values()}

    @property
    def countries(self) -> set[str]:
        return {n.country for n in self.notifications.values()}

    @property
    def acknowledged(self) -> bool:
        """Someone took it: acknowledged or resolved (cannot-act asks the next in line)."""
        return any(a.kind is not _CANNOT_ACT for a in self.acks) or any(
            n.state is _ACKNOWLEDGED for n in self.notifications.values()
        )

    @property
    def closed(self) -> bool:
        """Nothing left to do: every job final and no escalation running."""
        # Runs over every alert in memory each sweep: the cheap tests first.
        jobs = self.notifications.values()
        if not jobs:
            return False
        for n in jobs:
            if n.state not in FINAL_STATES:
                return False
        return self.escalation_due is None or self.cancelled or self.acknowledged

    @property
    def last_change(self) -> datetime | None:
        return max((n.updated_at for n in self.notifications.values()), default=None)

    @property
    def first_seen(self) -> datetime | None:
        return min((n.created_at for n in self.notifications.values()), default=None)


@dataclass
class Inbox:
    alerts: dict[str, AlertView] = field(default_factory=dict)
    entries: dict[str, set[str]] = field(default_factory=dict)  # entry_id -> alert ids
    countries: dict[str, set[str]] = field(default_factory=dict)  # country -> alert ids

    def view(self, alert_id: str) -> AlertView:
        found = self.alerts.get(alert_id)
        if found is None:
            found = self.alerts[alert_id] = AlertView(alert_id=alert_id)
        return found

    def apply(self, notification: Notification) -> AlertView:
        view = self.view(notification.alert_id)
        view.notifications[notification.notification_id] = notification
        self.countries.setdefault(notification.country, set()).add(notification.alert_id)
        if notification.entry_id:
            view.entry_id = notification.entry_id
            self.entries.setdefault(notification.entry_id, set()).add(notification.alert_id)
        if notification.alert is not None:
            view.alert = notification.alert
            if view.carrier is None:
                view.carrier = notification.notification_id
        first_page = notification.notice is NoticeKind.ALERT and view.escalation_level == 0
        if first_page and notification.ack_deadline is not None and view.escalation_due is None:
            view.escalation_due = notification.ack_deadline
        if notification.notice is NoticeKind.ESCALATION:
            view.escalation_level = max(view.escalation_level, notification.escalation_level)
            if notification.ack_deadline is not None:
                view.escalation_due = notification.ack_deadline
        if (
            notification.notice is NoticeKind.CANCELLATION
            or notification.state is NotificationState.CANCELLED
        ):
            view.cancelled = True
        return view

    def apply_ack(self, ack: Acknowledgement) -> AlertView:
        view = self.view(ack.alert_id)
        view.acks.append(ack)
        return view

    def notification(self, notification_id: str, alert_id: str) -> Notification | None:
        view = self.alerts.get(alert_id)
        return view.notifications.get(notification_id) if view else None

    def is_recipient(self, alert_id: str, contact_point: str) -> bool:
        view = self.alerts.get(alert_id)
        return view is not None and contact_point in view.recipients

    def by_entry(self, entry_id: str) -> list[AlertView]:
        return [self.alerts[a] for a in sorted(self.entries.get(entry_id, ()))]

    def for_country(self, country: str) -> list[AlertView]:
        """Alerts the country received (any contact point of it), newest first."""
        found = [self.alerts[a] for a in self.countries.get(country, ())]
        return sorted(found, key=lambda v: v.first_seen or _EPOCH, reverse=True)

    def closed_before(self, cutoff: datetime) -> list[str]:
        """Alerts with every job final, no escalation running, untouched since ``cutoff``."""
        return [
            v.alert_id
            for v in self.alerts.values()
            if v.closed and (v.last_change or _EPOCH) < cutoff
        ]

    def is_open(self, alert_id: str) -> bool:
        """Still being acted on. Open alerts are never evicted, so False for unknown ids."""
        view = self.alerts.get(alert_id)
        return view is not None and bool(view.notifications) and not view.closed

    def forget(self, alert_id: str) -> list[Notification]:
        """Drop an alert from memory; returns its jobs (to tombstone)."""
        view = self.alerts.pop(alert_id, None)
        if view is None:
            return []
        if view.entry_id and (ids := self.entries.get(view.entry_id)) is not None:
            ids.discard(alert_id)
            if not ids:
                del self.entries[view.entry_id]
        for c in view.countries:
            if (ids := self.countries.get(c)) is not None:
                ids.discard(alert_id)
        return list(view.notifications.values())

    def pending(self) -> list[Notification]:
        """Jobs that still have to be sent (rebuild after restart)."""
        return [
            n
            for v in self.alerts.values()
            for n in v.notifications.values()
            if n.state not in FINAL_STATES
        ]
