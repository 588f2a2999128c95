"""A ``Match`` as the ``schemas.alert.Alert`` the rest of the system reads.

``to_alert`` builds the validated model. ``to_alert_json`` writes the same bytes as
``encode(to_alert(...))`` straight from the match (orjson), after checking the few things the
model would check that the screener does not already guarantee; anything it cannot vouch for
goes through the model, so the output is always a valid Alert (or the model's error).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

import orjson
from pydantic import TypeAdapter

from schemas.alert import Alert, AlertKind, Band, Urgency, alert_id_for
from schemas.codec import encode
from schemas.common import COUNTRY_CODES, Timestamp
from schemas.watchlist import Action, ListKind
from services.matcher.domain import snapshot
from services.matcher.domain.explain import Evidence
from services.matcher.domain.score import Match

_LISTS = frozenset(ListKind)
_KINDS = frozenset(AlertKind)
_BANDS = frozenset(Band)
_ACTIONS = frozenset(Action)
_URGENCIES = frozenset(Urgency)
_EVENT_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_ENTRY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
# The form pydantic writes a UTC timestamp in; any other text goes through the model's type.
_CANONICAL_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{6})?Z")
_TIMESTAMP: TypeAdapter[dt.datetime] = TypeAdapter(Timestamp)
_MAX_EXPLANATION = 50
_MAX_TEXT = 500
_MAX_RESTRICTED = 250


def to_alert(match: Match, created_at: dt.datetime) -> Alert:
    """The alert for one match; ``alert_id`` depends only on (event_id, entry_id)."""
    summary = f"{match.band} {match.kind} match on {match.list} {match.entry_id}"
    payload: dict[str, object] = {
        "alert_id": alert_id_for(match.event_id, match.entry_id),
        "event_id": match.event_id,
        "entry_id": match.entry_id,
        "list": match.list,
        "kind": match.kind,
        "band": match.band,
        "score": match.score,
        "action": match.action,
        "urgency": match.urgency,
        "country": match.country,
        "issuer": match.issuer,
        "occurred_at": match.occurred_at,
        "explanation": [item.as_dict() for item in match.evidence],
        "created_at": created_at,
        "subject_minor": match.subject_minor,
        **snapshot.models(match.entry),
        "summary": summary,
    }
    if match.restricted_to:
        payload["dissemination"] = {"restricted_to": list(match.restricted_to)}
    return Alert.model_validate(payload, strict=False)


def to_alert_json(match: Match, created_at: dt.datetime) -> bytes:
    """``encode(to_alert(match, created_at))``, byte for byte, without building the model."""
    payload = _payload(match, created_at)
    if payload is None:
        return encode(to_alert(match, created_at))
    return orjson.dumps(payload)


def _payload(match: Match, created_at: dt.datetime) -> dict[str, Any] | None:
    """The alert as JSON-ready values in the model's field order, None values left out."""
    occurred_at = _timestamp_text(match.occurred_at)
    explanation = _explanation(match.evidence)
    if occurred_at is None or explanation is None or not _vouched(match):
        return None
    payload: dict[str, Any] = {
        "alert_id": alert_id_for(match.event_id, match.entry_id),
        "event_id": match.event_id,
        "entry_id": match.entry_id,
        "list": match.list,
        "kind": match.kind,
        "band": match.band,
        "score": float(match.score),
        "action": match.action,
        "urgency": match.urgency,
        "country": match.country,
        "issuer": match.issuer,
        "occurred_at": occurred_at,
        "explanation": explanation,
        "created_at": _created_text(created_at),
    }
    if match.restricted_to:
        payload["dissemination"] = {"restricted_to": list(match.restricted_to)}
    payload["retro"] = False
    if match.subject_minor is not None:
        payload["subject_minor"] = match.subject_minor
    payload.update(snapshot.fragments(match.entry))
    payload["summary"] = f"{match.band} {match.kind} match on {match.list} {match.entry_id}"
    return payload


def _vouched(match: Match) -> bool:
    """What the Alert model checks beyond what every screener match already is."""
    restricted = match.restricted_to
    return (
        match.list in _LISTS
        and match.kind in _KINDS
        and match.band in _BANDS
        and match.action in _ACTIONS
        and match.urgency in _URGENCIES
        and match.country in COUNTRY_CODES
        and match.issuer in COUNTRY_CODES
        and 0.0 <= match.score <= 1.0
        and _EVENT_ID.fullmatch(match.event_id) is not None
        and _ENTRY_ID.fullmatch(match.entry_id) is not None
        and (
            not restricted
            or (len(restricted) <= _MAX_RESTRICTED and COUNTRY_CODES.issuperset(restricted))
        )
    )


def _explanation(evidence: tuple[Evidence, ...]) -> list[dict[str, Any]] | None:
    if not 0 < len(evidence) <= _MAX_EXPLANATION:
        return None
    out = []
    for item in evidence:
        score = round(item.score, 2)
        if not (item.field and item.how and 0.0 <= score <= 1.0):
            return None
        line: dict[str, Any] = {"field": item.field}
        for key, text in (("event", item.event), ("entry", item.entry)):
            if text is not None:
                if len(text) > _MAX_TEXT:
                    return None
                line[key] = text
        line["how"] = item.how
        line["score"] = float(score)
        out.append(line)
    return out


def _timestamp_text(value: str) -> str | None:
    if _CANONICAL_UTC.fullmatch(value):
        return value
    try:
        return str(_TIMESTAMP.dump_python(_TIMESTAMP.validate_python(value), mode="json"))
    except ValueError:
        return None  # the model path raises the model's own error


@lru_cache(maxsize=64)
def _created_text(created_at: dt.datetime) -> str:
    # one created_at is shared by every alert of an event (and of a batch)
    return str(_TIMESTAMP.dump_python(created_at, mode="json"))
