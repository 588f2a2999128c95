"""What the recipient reads: the webhook JSON body and the e-mail (plain text and HTML)."""

from __future__ import annotations

import html
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.alert import Alert
from schemas.notification import NoticeKind, Notification
from services.notifier.domain import clock, report_text
from services.notifier.domain.words import (
    N_,
    PROTECTION_STEPS,
    PROTECTION_TITLE,
    Gettext,
    english,
    field_text,
    how_text,
    label,
    protection_first,
)

EVENT_TYPES = {
    NoticeKind.ALERT: "alert.created",
    NoticeKind.UPDATE: "alert.updated",
    NoticeKind.ESCALATION: "alert.escalated",
    NoticeKind.CANCELLATION: "alert.cancelled",
    NoticeKind.HIT_REPORT: report_text.EVENT_TYPE,
    NoticeKind.REMINDER: "alert.outcome_overdue",
}

HEADLINES = {
    NoticeKind.ALERT: N_("Watchlist hit"),
    NoticeKind.UPDATE: N_("Update: the same person was checked again"),
    NoticeKind.ESCALATION: N_("ESCALATED: not acknowledged in time"),
    NoticeKind.CANCELLATION: N_("CANCELLED: the watchlist entry was withdrawn"),
    NoticeKind.HIT_REPORT: report_text.HEADLINE,
    NoticeKind.REMINDER: N_("OVERDUE: no outcome reported within the deadline"),
}


def webhook_body(notification: Notification, alert: Alert, ack_url: str | None) -> bytes:
    """Standard Webhooks payload shape: ``{type, timestamp, data}``."""
    if notification.hit_report is not None:
        return report_text.webhook_body(notification, notification.hit_report)
    payload: dict[str, Any] = {
        "type": EVENT_TYPES[notification.notice],
        "timestamp": notification.created_at.isoformat(),
        "data": {
            "notification_id": notification.notification_id,
            "recipient": notification.recipient,
            "escalation_level": notification.escalation_level,
            "ack_url": ack_url,
            "alert": _alert_json(alert),
        },
    }
    return orjson.dumps(payload)


_ENCODED: OrderedDict[str, tuple[Alert, orjson.Fragment]] = OrderedDict()
_ENCODED_MAX = 4096


def _alert_json(alert: Alert) -> orjson.Fragment:
    """The alert's JSON, encoded once for all its recipients (and their retries)."""
    found = _ENCODED.get(alert.alert_id)
    if found is not None and found[0] is alert:
        _ENCODED.move_to_end(alert.alert_id)
        return found[1]
    fragment = orjson.Fragment(alert.__pydantic_serializer__.to_json(alert, exclude_none=True))
    _ENCODED[alert.alert_id] = (alert, fragment)
    if len(_ENCODED) > _ENCODED_MAX:
        _ENCODED.popitem(last=False)
    return fragment


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


def _lines(alert: Alert, _: Gettext) -> list[tuple[str, str]]:
    """(label, value) rows in the reader's language; names, numbers and codes as sent."""
    when = clock.stamp(alert.occurred_at, clock.post_zone(alert.occurred_at, alert.country))
    entry = _("{entry} ({list}, issued by {issuer})").format(
        entry=alert.entry_id, list=label(alert.list, _), issuer=alert.issuer
    )
    match = _("{band}, score {score}, {urgency}").format(
        band=label(alert.band, _), score=f"{alert.score:.2f}", urgency=label(alert.urgency, _)
    )
    where = (alert.location.name or alert.location.code) if alert.location else alert.country
    rows = [
        (_("Alert"), alert.alert_id),
        (_("Entry"), entry),
        (_("Requested action"), label(alert.action, _)),
        (_("Match"), match),
        (_("Where"), where),
        (_("When"), clock.stamp_text(when)),
    ]
    if alert.summary:
        rows.append((_("Summary"), alert.summary))
    rows += [
        (
            _("Why: {field}").format(field=field_text(e.field, _)),
            f"{how_text(e.how, _)} ({e.score:.2f})",
        )
        for e in alert.explanation
    ]
    return rows


def _protection(alert: Alert, _: Gettext) -> tuple[str, list[str]] | None:
    if not protection_first(alert.list, alert.subject_minor):
        return None
    return _(PROTECTION_TITLE), [_(step) for step in PROTECTION_STEPS]


def email(
    notification: Notification, alert: Alert, ack_url: str | None, _: Gettext = english
) -> EmailContent:
    """In the reader's language (``_`` is its gettext). Every value is escaped in the HTML
    part: alert text comes from outside."""
    if notification.hit_report is not None:
        report = report_text.email(notification.hit_report, _)
        return EmailContent(subject=report.subject, text=report.text, html=report.html)
    headline = _(HEADLINES[notification.notice])
    subject = _("[notice-relay] {headline}: {list} {entry} in {country}").format(
        headline=headline, list=label(alert.list, _), entry=alert.entry_id, country=alert.country
    )
    rows = _lines(alert, _)
    lead = _protection(alert, _)
    text_parts = [headline, ""]
    body = f"<h2>{html.escape(headline)}</h2>"
    if lead is not None:
        title, steps = lead
        text_parts += [title, *(f"{n}. {step}" for n, step in enumerate(steps, 1)), ""]
        items = "".join(f"<li>{html.escape(step)}</li>" for step in steps)
        body += f"<h3>{html.escape(title)}</h3><ol>{items}</ol>"
    text = "\n".join([*text_parts, *(f"{k}: {v}" for k, v in rows)])
    cells = "".join(
        f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows
    )
    body += f"<table>{cells}</table>"
    if ack_url:
        ack = _("Acknowledge")
        text += f"\n\n{ack}: {ack_url}\n"
        body += f'<p><a href="{html.escape(ack_url, quote=True)}">{html.escape(ack)}</a></p>'
    return EmailContent(subject=subject, text=text, html=f"<html><body>{body}</body></html>")
