"""What the recipient reads: the webhook JSON body and the e-mail (plain text and HTML)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.alert import Alert
from schemas.notification import NoticeKind, Notification

EVENT_TYPES = {
    NoticeKind.ALERT: "alert.created",
    NoticeKind.UPDATE: "alert.updated",
    NoticeKind.ESCALATION: "alert.escalated",
    NoticeKind.CANCELLATION: "alert.cancelled",
}

HEADLINES = {
    NoticeKind.ALERT: "Watchlist hit",
    NoticeKind.UPDATE: "Update: the same person was checked again",
    NoticeKind.ESCALATION: "ESCALATED: not acknowledged in time",
    NoticeKind.CANCELLATION: "CANCELLED: the watchlist entry was withdrawn",
}


def webhook_body(notification: Notification, alert: Alert, ack_url: str | None) -> bytes:
    """Standard Webhooks payload shape: ``{type, timestamp, data}``."""
    payload: dict[str, Any] = {
        "type": EVENT_TYPES[notification.notice],
        "timestamp": notification.created_at.isoformat(),
        "data": {
            "notification_id": notification.notification_id,
            "recipient": notification.recipient,
            "escalation_level": notification.escalation_level,
            "ack_url": ack_url,
            "alert": alert.model_dump(mode="json", exclude_none=True),
        },
    }
    return orjson.dumps(payload)


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


def _lines(alert: Alert) -> list[tuple[str, str]]:
    rows = [
        ("Alert", alert.alert_id),
        ("Entry", f"{alert.entry_id} ({alert.list.value}, issued by {alert.issuer})"),
        ("Requested action", alert.action.value),
        ("Match", f"{alert.band.value}, score {alert.score:.2f}, {alert.urgency.value}"),
        ("Where", alert.location.name or alert.location.code if alert.location else alert.country),
        ("When", alert.occurred_at.isoformat()),
    ]
    if alert.summary:
        rows.append(("Summary", alert.summary))
    rows += [(f"Why: {e.field}", f"{e.how} ({e.score:.2f})") for e in alert.explanation]
    return rows


def email(notification: Notification, alert: Alert, ack_url: str | None) -> EmailContent:
    """Every value is escaped in the HTML part: alert text comes from outside."""
    headline = HEADLINES[notification.notice]
    subject = f"[notice-relay] {headline}: {alert.list.value} {alert.entry_id} in {alert.country}"
    rows = _lines(alert)
    text = "\n".join([headline, "", *(f"{k}: {v}" for k, v in rows)])
    cells = "".join(
        f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows
    )
    body = f"<h2>{html.escape(headline)}</h2><table>{cells}</table>"
    if ack_url:
        text += f"\n\nAcknowledge: {ack_url}\n"
        body += f'<p><a href="{html.escape(ack_url, quote=True)}">Acknowledge</a></p>'
    return EmailContent(subject=subject, text=text, html=f"<html><body>{body}</body></html>")
