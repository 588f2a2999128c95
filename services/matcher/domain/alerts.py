"""A ``Match`` as the ``schemas.alert.Alert`` the rest of the system reads."""

from __future__ import annotations

import datetime as dt

from schemas.alert import Alert, alert_id_for
from services.matcher.domain.score import Match


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
        "summary": summary,
    }
    if match.restricted_to:
        payload["dissemination"] = {"restricted_to": list(match.restricted_to)}
    return Alert.model_validate(payload, strict=False)
