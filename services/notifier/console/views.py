"""What a contact point may see of the inbox, shaped for the console. Pure.

Every function takes the viewer's country: a view is visible only when that country was a
recipient and the alert's dissemination allows it; acknowledgements of other countries are shown
without their comments, and only the viewer's own country's deliveries are listed.

Words are English msgids (``services.notifier.domain.words``) and codes: the console translates
them with its catalogue. Times are ``clock.Stamp``s in the border post's zone with UTC beside.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from schemas.alert import Alert, Band, Urgency
from schemas.event import Traveller
from schemas.notification import AckKind
from schemas.watchlist import PersonName
from services.notifier.domain import clock, outcomes
from services.notifier.domain.inbox import AlertView
from services.notifier.domain.words import (
    N_,
    PROTECTION_STEPS,
    PROTECTION_TITLE,
    field_text,
    how_text,
    protection_first,
    strength,
)

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


def zone_of(view: AlertView) -> tzinfo:
    """The post's zone: every time of the alert is shown in it, with UTC beside."""
    alert = view.alert
    return clock.post_zone(alert.occurred_at, alert.country) if alert else UTC


def _stamp(at: datetime | None, zone: tzinfo) -> clock.Stamp | None:
    return clock.stamp(at, zone) if at else None


def person_name(name: Traveller | PersonName) -> str:
    parts = (name.surname, name.given_names, name.patronymic)
    return " ".join(p for p in parts if p)


def _alert_fields(alert: Alert | None, zone: tzinfo) -> dict[str, Any]:
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
        "occurred": clock.stamp(alert.occurred_at, zone),
        "traveller": person_name(alert.traveller) if alert.traveller else None,
        "document": alert.event_document.number if alert.event_document else None,
        "retro": alert.retro,
        "subject_minor": alert.subject_minor,
    }


def row(view: AlertView, contact_point: str, country: str) -> dict[str, Any]:
    state = state_of(view, country)
    running = view.escalation_due is not None and state in OPEN_STATES and not view.acknowledged
    zone = zone_of(view)
    return {
        "alert_id": view.alert_id,
        "entry_id": view.entry_id,
        "state": state,
        "open": state in OPEN_STATES,
        "first_seen": _iso(view.first_seen),
        "seen": _stamp(view.first_seen, zone),
        "escalation_level": view.escalation_level,
        "escalation_due": _iso(view.escalation_due) if running else None,
        "due": _stamp(view.escalation_due, zone) if running else None,
        "can_act": contact_point in view.recipients,
        **outcomes.console_fields(view, contact_point, country),
        **_alert_fields(view.alert, zone),
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
    zone = zone_of(view)
    return {
        **row(view, contact_point, country),
        "protection": _protection(alert),
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
                "updated": _stamp(n.updated_at, zone),
            }
            for n in view.notifications.values()
            if n.country == country
        ],
        "acks": [_ack(view, a, country, zone) for a in view.acks],
        **outcomes.detail_fields(view),
    }


def _protection(alert: Alert | None) -> dict[str, Any] | None:
    """A yellow notice of a minor: the protection instructions lead the detail."""
    if alert is None or not protection_first(alert.list, alert.subject_minor):
        return None
    return {"title": PROTECTION_TITLE, "steps": list(PROTECTION_STEPS)}


def _ack(view: AlertView, ack: Any, country: str, zone: tzinfo) -> dict[str, Any]:
    own = _ack_country(view, ack.contact_point) == country
    return {
        "kind": ack.kind.value,
        "contact_point": ack.contact_point,
        "at": _iso(ack.at),
        "when": clock.stamp(ack.at, zone),
        "comment": ack.comment if own else None,  # another country's words stay with it
        "by": ack.answered_by if own else None,  # the officer (console answers only)
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


Pair = tuple[str, Any, str]  # (label msgid, value, kind: text, mono, code, time, age)


def _event_side(alert: Alert | None) -> list[Pair]:
    """(label, value, kind) triples, in reading order; a ``code`` value is translated as a
    label, a ``time`` value is a ``clock.Stamp``."""
    if alert is None:
        return []
    t, d, where = alert.traveller, alert.event_document, alert.location
    zone = clock.post_zone(alert.occurred_at, alert.country)
    day = alert.occurred_at.astimezone(zone).date()
    return [
        (N_("Event"), alert.event_type.value if alert.event_type else None, "code"),
        (N_("Where"), f"{where.name or ''} ({where.code})".strip() if where else None, "text"),
        (N_("When"), clock.stamp(alert.occurred_at, zone), "time"),
        (N_("Country"), alert.country, "text"),
        (N_("Name"), person_name(t) if t else None, "text"),
        (N_("Date of birth"), t.date_of_birth if t else None, "mono"),
        (N_("Age on the day of the event"), clock.age_on(t.date_of_birth, day) if t else None,
         "age"),
        (N_("Sex"), t.sex if t else None, "code"),
        (N_("Nationality"), t.nationality if t else None, "text"),
        (N_("Document"), d.number if d else None, "mono"),
        (N_("Issued by"), d.issuing_state if d else None, "text"),
        (N_("Expires"), d.expiry_date if d else None, "mono"),
    ]  # fmt: skip


def _entry_side(alert: Alert | None) -> list[Pair]:
    if alert is None:
        return []
    side: list[Pair] = [
        (N_("Entry"), alert.entry_id, "mono"),
        (N_("List"), alert.list.value, "code"),
        (N_("Issued by"), alert.issuer, "text"),
        (N_("Requested action"), alert.action.value, "code"),
    ]
    p, doc = alert.entry_person, alert.entry_document
    if p is not None:
        day = alert.occurred_at.astimezone(clock.post_zone(alert.occurred_at, alert.country))
        side += [(N_("Name"), person_name(n), "text") for n in p.names]
        side += [
            (N_("Date of birth"), p.date_of_birth, "mono"),
            (N_("Age on the day of the event"), clock.age_on(p.date_of_birth, day.date()), "age"),
            (N_("Sex"), p.sex, "code"),
            (N_("Nationality"), ", ".join(p.nationalities) or None, "text"),
        ]
        side += [(N_("Document"), f"{d.number} ({d.issuing_state})", "mono") for d in p.documents]
    if alert.entry_omitted is not None:
        omitted = alert.entry_omitted
        side += [(N_("Names not shown"), omitted.names or None, "mono")]
        side += [(N_("Documents not shown"), omitted.documents or None, "mono")]
    if doc is not None:
        side += [
            (N_("Document"), doc.number, "mono"),
            (N_("Issued by"), doc.issuing_state, "text"),
            (N_("Status"), doc.status.value, "code"),
        ]
    return side
