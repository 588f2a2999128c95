"""What the issuer reads of a hit report: the webhook JSON body and the e-mail. Pure.

The webhook body has the Standard Webhooks shape of the alerts' (``{type, timestamp, data}``),
type ``hit_report.created``, with the report as it is on the ``hit_reports`` topic.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.hit_report import HitReport
from schemas.notification import Notification
from services.notifier.domain.outcomes import OUTCOME_WORDS
from services.notifier.domain.words import N_, Gettext, english

EVENT_TYPE = "hit_report.created"
HEADLINE = N_("Hit report: what was done about your entry")


@dataclass(frozen=True)
class ReportEmail:
    subject: str
    text: str
    html: str


def webhook_body(notification: Notification, report: HitReport) -> bytes:
    payload: dict[str, Any] = {
        "type": EVENT_TYPE,
        "timestamp": notification.created_at.isoformat(),
        "data": {
            "notification_id": notification.notification_id,
            "recipient": notification.recipient,
            "hit_report": orjson.Fragment(
                report.__pydantic_serializer__.to_json(report, exclude_none=True)
            ),
        },
    }
    return orjson.dumps(payload)


def _rows(report: HitReport, _: Gettext) -> list[tuple[str, str]]:
    where = report.location
    rows = [
        (_("Outcome"), _(OUTCOME_WORDS[report.outcome])),
        (_("Entry"), f"{report.entry_id} ({report.list.value})"),
        (_("Alert"), report.alert_id),
        (_("Reported by"), f"{report.answered_by} ({report.country})"),
        (_("Reported at"), report.at.isoformat()),
        (_("Hit at"), report.occurred_at.isoformat()),
        (_("Where"), (where.name or where.code) if where else report.country),
    ]
    if report.comment:
        rows.append((_("Comment"), report.comment))
    return rows


def email(report: HitReport, gettext: Gettext = english) -> ReportEmail:
    """Every value is escaped in the HTML part: the comment comes from outside."""
    _ = gettext
    headline = _(HEADLINE)
    words = _(OUTCOME_WORDS[report.outcome])
    subject = f"[notice-relay] {headline}: {words}, {report.entry_id} ({report.country})"
    rows = _rows(report, gettext)
    text = "\n".join([headline, "", *(f"{k}: {v}" for k, v in rows)])
    cells = "".join(
        f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows
    )
    body = f"<h2>{html.escape(headline)}</h2><table>{cells}</table>"
    return ReportEmail(subject=subject, text=text, html=f"<html><body>{body}</body></html>")
