"""After the hit: the outcome a country gives, the hit report it makes for the issuer, and the
deadline for giving it (the 12-hour rule). Pure: no I/O, no clock of its own.

An outcome answers an alert for the country where the hit happened. It becomes a hit report,
delivered as the alert was (the same channels, restriction, retries and de-duplication) to the
issuer's contact point and to every other contact point outside the reporting country that was
told of the hit (the coordination centre of an urgent alert). With no outcome by the deadline,
the country's supervisor desk and the coordination centre are reminded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.alert import Alert
from schemas.hit_report import HitReport, OutcomeCode, codes_for, report_id_for
from schemas.notification import (
    NoticeKind,
    Notification,
    NotificationState,
    notification_id_for,
)
from services.notifier.domain import clock
from services.notifier.domain.directory import ContactPoint, Directory
from services.notifier.domain.inbox import AlertView
from services.notifier.domain.routing import channels_for
from services.notifier.domain.words import N_

# Each code in a duty officer's words (msgids; the console translates them with ``t()``).
OUTCOME_WORDS: dict[OutcomeCode, str] = {
    OutcomeCode.ARRESTED: N_("Arrested"),
    OutcomeCode.LOCATED: N_("Located"),
    OutcomeCode.PROTECTED: N_("Protected (minor or victim brought to safety)"),
    OutcomeCode.REFUSED_ENTRY: N_("Refused entry"),
    OutcomeCode.ALLOWED_UNDER_WATCH: N_("Allowed to travel, under watch"),
    OutcomeCode.NOT_FOUND: N_("Not found"),
    OutcomeCode.FALSE_MATCH: N_("False match: not the listed person"),
    OutcomeCode.DOCUMENT_SEIZED: N_("Document seized"),
    OutcomeCode.DOCUMENT_NOT_PRESENTED: N_("Document not presented"),
}


class OutcomeRefused(ValueError):
    """An outcome that cannot be taken: ``status`` is the HTTP answer, ``field`` what is wrong."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.status = status
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Answerer:
    """Who gives the outcome: the audit actor, their role, their contact point and country."""

    actor: str  # "KAZ-NCB/kaz.duty1", or the contact point itself over the API
    role: str  # "duty_officer", "supervisor", or API_ROLE
    contact_point: str
    country: str
    via: str = "console"  # or "api"
    client: str = "unknown"  # the address it came from


API_ROLE = "contact_point"  # who answers with the contact point's own API key


@dataclass(frozen=True)
class GivenOutcome:
    outcome: str
    comment: str | None
    at: datetime


def parse_outcome(alert: Alert, text: str) -> OutcomeCode:
    """The code, if it answers a hit of this alert's kind; else ``OutcomeRefused`` (422)."""
    allowed = codes_for(alert.kind)
    for code in allowed:
        if code.value == text:
            return code
    raise OutcomeRefused(
        422, "outcome", f"a {alert.kind.value} hit takes one of: {', '.join(allowed)}"
    )


def build_report(alert: Alert, given: GivenOutcome, who: Answerer) -> HitReport:
    """The hit report of an outcome. Only the country of the hit reports on it."""
    if who.country != alert.country:
        raise OutcomeRefused(403, "country", "only the country of the hit gives its outcome")
    outcome = parse_outcome(alert, given.outcome)
    return HitReport(
        report_id=report_id_for(alert.alert_id, outcome),
        alert_id=alert.alert_id,
        event_id=alert.event_id,
        entry_id=alert.entry_id,
        list=alert.list,
        kind=alert.kind,
        issuer=alert.issuer,
        country=alert.country,
        outcome=outcome,
        comment=given.comment or None,
        answered_by=who.actor,
        answered_by_role=who.role,
        contact_point=who.contact_point,
        at=given.at,
        occurred_at=alert.occurred_at,
        location=alert.location,
        traveller=alert.traveller,
        event_document=alert.event_document,
        dissemination=alert.dissemination,
    )


def report_targets(
    report: HitReport, directory: Directory, informed: Iterable[str]
) -> list[ContactPoint]:
    """The issuer's contact point, and every contact point told of the hit (``informed``, the
    alert's recipients) outside the reporting country; never outside the restriction."""
    found: list[ContactPoint] = []
    issuer = directory.primary_of(report.issuer)
    candidates = [issuer] if issuer is not None else []
    candidates += [cp for cp in (directory.get(i) for i in sorted(informed)) if cp is not None]
    for cp in candidates:
        if cp in found or cp.id == report.contact_point:
            continue
        if cp.country == report.country and cp.country != report.issuer:
            continue  # the reporting country knows what it did
        if report.may_disseminate_to(cp.country):
            found.append(cp)
    return found


def report_jobs(
    report: HitReport, alert: Alert, targets: list[ContactPoint], now: datetime
) -> list[Notification]:
    """One PENDING job per (target, channel), ids from the report: the same report routed
    twice is one delivery, a corrected outcome another."""
    jobs: list[Notification] = []
    for cp in targets:
        if not (report.may_disseminate_to(cp.country) and alert.may_disseminate_to(cp.country)):
            continue
        for channel, address in channels_for(cp, alert, NoticeKind.HIT_REPORT):
            jobs.append(
                Notification(
                    notification_id=notification_id_for(report.report_id, cp.id, channel),
                    alert_id=report.alert_id,
                    recipient=cp.id,
                    country=cp.country,
                    channel=channel,
                    address=address,
                    state=NotificationState.PENDING,
                    created_at=now,
                    updated_at=now,
                    notice=NoticeKind.HIT_REPORT,
                    entry_id=report.entry_id,
                    hit_report=report,
                )
            )
    return jobs


def reports_of(view: AlertView) -> list[HitReport]:
    """The alert's hit reports (from its report jobs), oldest first."""
    found: dict[str, HitReport] = {}
    for n in view.notifications.values():
        if n.hit_report is not None:
            found.setdefault(n.hit_report.report_id, n.hit_report)
    return sorted(found.values(), key=lambda r: r.at)


def outcome_of(view: AlertView) -> OutcomeCode | None:
    """The latest outcome given: an answer held in memory, or a report routed."""
    given = [(a.at, a.outcome) for a in view.acks if a.outcome is not None]
    given += [(r.at, r.outcome) for r in reports_of(view)]
    return max(given, key=lambda g: g[0])[1] if given else None


def reminded(view: AlertView) -> bool:
    return any(n.notice is NoticeKind.REMINDER for n in view.notifications.values())


def awaits_outcome(view: AlertView) -> bool:
    """The country of the hit was paged and has given no outcome; not cancelled since."""
    alert = view.alert
    if alert is None or view.cancelled or outcome_of(view) is not None:
        return False
    return any(
        n.notice is NoticeKind.ALERT and n.country == alert.country
        for n in view.notifications.values()
    )


@dataclass(frozen=True)
class Deadlines:
    """How long after an alert its outcome is due: ``default``, or per list and urgency
    (``overrides`` keys ``<list>:<urgency>``, ``<list>`` or ``<urgency>``; the most specific
    wins)."""

    default: timedelta = timedelta(hours=12)
    overrides: Mapping[str, timedelta] | None = None

    def for_alert(self, alert: Alert) -> timedelta:
        found = self.overrides or {}
        for key in (f"{alert.list.value}:{alert.urgency.value}", alert.list.value):
            if key in found:
                return found[key]
        return found.get(alert.urgency.value, self.default)

    def due(self, alert: Alert) -> datetime:
        return alert.created_at + self.for_alert(alert)


def reminder_targets(alert: Alert, directory: Directory) -> list[ContactPoint]:
    """The supervisor desk of the country of the hit and the coordination centre."""
    found: list[ContactPoint] = []
    for cp in (directory.supervisor_of(alert.country), directory.coordination):
        if cp is not None and cp not in found and alert.may_disseminate_to(cp.country):
            found.append(cp)
    return found


def console_fields(view: AlertView, contact_point: str, country: str) -> dict[str, object]:
    """What the console shows of the outcome: given, or overdue (reminded, still none); and
    whether this viewer may give it (the country of the hit, a recipient)."""
    outcome = outcome_of(view)
    alert = view.alert
    answerable = alert is not None and alert.country == country
    return {
        "outcome": outcome.value if outcome else None,
        "outcome_words": OUTCOME_WORDS[outcome] if outcome else None,
        "outcome_overdue": outcome is None and reminded(view),
        "can_give_outcome": answerable and contact_point in view.recipients,
    }


def detail_fields(view: AlertView) -> dict[str, object]:
    """The alert's hit reports, and the outcome codes it may be answered with."""
    alert = view.alert
    codes = codes_for(alert.kind) if alert is not None else ()
    return {
        "reports": [report_fields(r) for r in reports_of(view)],
        "outcome_codes": [{"code": c.value, "words": OUTCOME_WORDS[c]} for c in codes],
    }


def report_fields(report: HitReport) -> dict[str, object]:
    """One hit report as the console shows it."""
    return {
        "report_id": report.report_id,
        "alert_id": report.alert_id,
        "entry_id": report.entry_id,
        "list": report.list.value,
        "issuer": report.issuer,
        "country": report.country,
        "outcome": report.outcome.value,
        "words": OUTCOME_WORDS[report.outcome],
        "comment": report.comment,
        "answered_by": report.answered_by,
        "answered_by_role": report.answered_by_role,
        "at": report.at.isoformat(),
        "when": clock.stamp(report.at, clock.post_zone(report.occurred_at, report.country)),
        "occurred_at": report.occurred_at.isoformat(),
        "location": (report.location.name or report.location.code) if report.location else None,
    }
