"""What a contact point may see of the inbox, shaped for the console. Pure.

Every function takes the viewer's country: a view is visible only when that country was a
recipient and the alert's dissemination allows it; acknowledgements of other countries are shown
without their comments, and only the viewer's own country's deliveries are listed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from schemas.alert import Alert, Band, Urgency
from schemas.event import Traveller
from schemas.notification import AckKind
from schemas.watchlist import PersonName
from services.notifier.domain.inbox import AlertView
from services.notifier.domain.words import field_text, how_text, strength

OPEN_STATES = frozenset({"open", "escalated", "cannot_act"})
_URGENCY_RANK = {Urgency.URGENT: 0, Urgency.NORMAL: 1, Urgency.LOW: 2}
MAX_ROWS = 500


def visible(view: AlertView, country: str) -> bool:
    if country not in view.countries:
        return False
    # Fail closed when the alert is at hand and says no (the directory may have changed since).
    return view.alert is None or view.alert.may_disseminate_to(country)


def _ack_country(view: AlertView, contact_point: str) -> str | None:
    for n in view.notifications.values():
        if n.recipient == contact_point:
            return n.country
    return None


def state_of(view: AlertView, country: str) -> str:
    if view.cancelled:
        return "cancelled"
    own = {a.kind for a in view.acks if _ack_country(view, a.contact_point) == country}
    if AckKind.RESOLVED in own:
        return "resolved"
    if view.acknowledged:
        return "acknowledged"
    if AckKind.CANNOT_ACT in own:
        return "cannot_act"
    return "escalated" if view.escalation_level > 0 else "open"


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def person_name(name: Traveller | PersonName) -> str:
    parts = (name.surname, name.given_names, name.patronymic)
    return " ".join(p for p in parts if p)


def _alert_fields(alert: Alert | None) -> dict[str, Any]:
    if alert is None:
        return {"held": False}
    where = alert.location
    return {
        "held": True,
        "list": alert.list.value,
        "band": alert.band.value,
        "urgency": alert.urgency.value,
        "kind": alert.kind.value,
        "score": round(alert.score, 2),
        "action": alert.action.value,
        "event_country": alert.country,
        "issuer": alert.issuer,
        "event_type": alert.event_type.value if alert.event_type else None,
        "location": (where.name or where.code) if where else None,
        "occurred_at": _iso(alert.occurred_at),
        "traveller": person_name(alert.traveller) if alert.traveller else None,
        "document": alert.event_document.number if alert.event_document else None,
        "retro": alert.retro,
        "subject_minor": alert.subject_minor,
    }


def row(view: AlertView, contact_point: str, country: str) -> dict[str, Any]:
    state = state_of(view, country)
    running = view.escalation_due is not None and state in OPEN_STATES and not view.acknowledged
    return {
        "alert_id": view.alert_id,
        "entry_id": view.entry_id,
        "state": state,
        "open": state in OPEN_STATES,
        "first_seen": _iso(view.first_seen),
        "escalation_level": view.escalation_level,
        "escalation_due": _iso(view.escalation_due) if running else None,
        "can_act": contact_point in view.recipients,
        **_alert_fields(view.alert),
    }


def _sort_key(item: tuple[AlertView, dict[str, Any]]) -> tuple[int, int, int, float]:
    view, shown = item
    alert = view.alert
    urgency = _URGENCY_RANK[alert.urgency] if alert else 3
    band = 0 if alert is None or alert.band is Band.STRONG else 1
    seen = view.first_seen.timestamp() if view.first_seen else 0.0
    return (0 if shown["open"] else 1, urgency, band, -seen)


def rows(views: list[AlertView], contact_point: str, country: str) -> list[dict[str, Any]]:
    """Open before closed, urgent first, strong before possible, newest first."""
    found = [(v, row(v, contact_point, country)) for v in views if visible(v, country)]
    found.sort(key=_sort_key)
    return [shown for _, shown in found[:MAX_ROWS]]


def fingerprint(views: list[AlertView], country: str) -> int:
    """Cheap change detector for the live stream: anything a row or a detail shows."""
    return hash(
        tuple(
            (
                v.alert_id, v.escalation_level, v.escalation_due, v.cancelled, len(v.acks),
                v.alert is None,
                tuple((n.notification_id, n.state) for n in v.notifications.values()),
            )
            for v in views
            if visible(v, country)
        )
    )  # fmt: skip


def detail(view: AlertView, contact_point: str, country: str) -> dict[str, Any]:
    alert = view.alert
    return {
        **row(view, contact_point, country),
        "summary": alert.summary if alert else None,
        "restricted_to": list(alert.dissemination.restricted_to)
        if alert and alert.dissemination
        else None,
        "explanation": _explanation(alert),
        "event": _event_side(alert),
        "entry": _entry_side(alert),
        "deliveries": [
            {
                "recipient": n.recipient,
                "channel": n.channel.value,
                "notice": n.notice.value,
                "state": n.state.value,
                "level": n.escalation_level,
                "updated_at": _iso(n.updated_at),
            }
            for n in view.notifications.values()
            if n.country == country
        ],
        "acks": [_ack(view, a, country) for a in view.acks],
    }


def _ack(view: AlertView, ack: Any, country: str) -> dict[str, Any]:
    own = _ack_country(view, ack.contact_point) == country
    return {
        "kind": ack.kind.value,
        "contact_point": ack.contact_point,
        "at": _iso(ack.at),
        "comment": ack.comment if own else None,  # another country's words stay with it
        "own": own,
    }


def _explanation(alert: Alert | None) -> list[dict[str, Any]]:
    if alert is None:
        return []
    return [
        {
            "field": field_text(item.field),
            "event": item.event,
            "entry": item.entry,
            "how": how_text(item.how),
            "score": round(item.score, 2),
            "strength": strength(item.score),
        }
        for item in alert.explanation
    ]


def _event_side(alert: Alert | None) -> list[tuple[str, str | None, bool]]:
    """(label, value, monospace) pairs, in reading order."""
    if alert is None:
        return []
    t, d, where = alert.traveller, alert.event_document, alert.location
    return [
        ("Event", alert.event_type.value.replace("_", " ") if alert.event_type else None, False),
        ("Where", f"{where.name or ''} ({where.code})".strip() if where else None, False),
        ("When", alert.occurred_at.strftime("%Y-%m-%d %H:%M:%S UTC"), True),
        ("Country", alert.country, False),
        ("Name", person_name(t) if t else None, False),
        ("Date of birth", t.date_of_birth if t else None, True),
        ("Sex", t.sex if t else None, False),
        ("Nationality", t.nationality if t else None, False),
        ("Document", d.number if d else None, True),
        ("Issued by", d.issuing_state if d else None, False),
        ("Expires", d.expiry_date if d else None, True),
    ]


def _entry_side(alert: Alert | None) -> list[tuple[str, str | None, bool]]:
    if alert is None:
        return []
    side: list[tuple[str, str | None, bool]] = [
        ("Entry", alert.entry_id, True),
        ("List", alert.list.value.replace("_", " "), False),
        ("Issued by", alert.issuer, False),
        ("Action", alert.action.value.replace("_", " "), False),
    ]
    p, doc = alert.entry_person, alert.entry_document
    if p is not None:
        side += [("Name", person_name(n), False) for n in p.names]
        side += [
            ("Date of birth", p.date_of_birth, True),
            ("Sex", p.sex, False),
            ("Nationality", ", ".join(p.nationalities) or None, False),
        ]
        side += [(f"Document ({d.issuing_state})", d.number, True) for d in p.documents]
    if doc is not None:
        side += [
            ("Document", doc.number, True),
            ("Issued by", doc.issuing_state, False),
            ("Status", doc.status.value, False),
        ]
    return side
