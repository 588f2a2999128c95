"""What the recipient reads: the webhook JSON body and the e-mail (plain text and HTML)."""

from __future__ import annotations

import html
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.alert import Alert
from schemas.notification import NoticeKind, Notification
from services.notifier.domain.words import field_text, how_text

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
    rows += [
        (f"Why: {field_text(e.field)}", f"{how_text(e.how)} ({e.score:.2f})")
        for e in alert.explanation
    ]
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
