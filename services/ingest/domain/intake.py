"""From a sender's JSON value to a canonical event ready to publish, or a reasoned rejection.

The same steps serve the HTTP API and the raw Kafka intake: validate against ``schemas`` (with
the time of receipt, which bounds ``occurred_at``), authorise the agency for the event's country,
cross-check the MRZ, stamp ``received_at``, choose the topic and the partition key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from schemas.codec import _field_models, encode, find_unknown_fields
from schemas.errors import ErrorRecord, describe_errors, field_path
from schemas.event import RECEIVED_AT, Event
from schemas.mrz import read_mrz
from schemas.topics import TopicName
from services.ingest.domain.agencies import DENIAL_MESSAGES, Agency, authorise
from services.ingest.domain.keys import topic_for, traveller_key
from services.ingest.domain.mrz_check import cross_check_update

# Fields of the canonical event that only ingest writes; a sender may not set them.
SET_BY_INGEST = ("flags", "received_at", "mrz_valid")


@dataclass(frozen=True)
class Rejection:
    """Why an event was not accepted: an HTTP-style status and the fields at fault."""

    status: int
    errors: list[ErrorRecord]

    @property
    def summary(self) -> str:
        text = "; ".join(f"{e['field']}: {e['message']}" for e in self.errors[:3])
        more = len(self.errors) - 3
        return f"{text}; and {more} more" if more > 0 else text

    @property
    def field(self) -> str:
        return self.errors[0]["field"] if self.errors else ""


@dataclass(frozen=True)
class Prepared:
    """A canonical event and how to publish it (``topic`` is the catalogue name)."""

    event: Event
    topic: TopicName
    key: bytes
    value: bytes


def _error(field: str, rule: str, message: str) -> ErrorRecord:
    return ErrorRecord(field=field or '""', rule=rule, message=message)  # "" is a key too


def _unknown_fields(raw: dict[str, Any]) -> list[str]:
    """``find_unknown_fields(raw, Event)``, with a shortcut for the usual event that has none.

    The shortcut only looks at what the full walk would (keys of the event and of the objects
    it nests, directly or in lists); any doubt falls back to the walk, which names the paths.
    """
    if _all_known(raw, Event):
        return []
    return find_unknown_fields(raw, Event)


def _all_known(raw: dict[str, Any], model: type[BaseModel]) -> bool:
    fields = _FIELDS.get(model)
    if fields is None:
        fields = _FIELDS[model] = _field_models(model)
    if not fields.keys() >= raw.keys():
        return False
    for key, value in raw.items():
        nested = fields[key]
        if nested is None:
            continue
        if isinstance(value, dict):
            if not _all_known(value, nested):
                return False
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict) and not _all_known(item, nested):
                    return False
    return True


# The walk's own view of each model (codec's private helper, so the two cannot disagree).
_FIELDS: dict[type[BaseModel], dict[str, type[BaseModel] | None]] = {}


def validate(raw: object, received_at: dt.datetime | None = None) -> Event | Rejection:
    """A parsed JSON value -> Event, or 422 naming every field at fault.

    ``received_at``: when ingest received it; an ``occurred_at`` more than a day later is
    refused with the other faults. Without it only the fixed bounds apply.
    """
    if not isinstance(raw, dict):
        return Rejection(422, [_error("(message)", "object_type", "an event is a JSON object")])
    errors = [_error(path, "extra_forbidden", "unknown field") for path in _unknown_fields(raw)]
    errors += [
        _error(name, "set_by_ingest", "this field is set by ingest, not by the sender")
        for name in SET_BY_INGEST
        if name in raw
    ]
    try:
        event = Event.model_validate(raw, context={RECEIVED_AT: received_at})
    except ValidationError as exc:
        errors += describe_errors(exc)
    if errors:
        return Rejection(422, errors)
    return event


def event_id_of(raw: object) -> str | None:
    """The sender's event id, for the response, when it looks like one."""
    if isinstance(raw, dict):
        value = raw.get("event_id")
        if isinstance(value, str) and len(value) <= 64:
            return value
    return None


def prepare(event: Event, agency: Agency, received_at: dt.datetime) -> Prepared | Rejection:
    """Authorise, normalise and encode one valid event."""
    denial = authorise(agency, event.country, event.reported_by)
    if denial is not None:
        path = field_path([denial.value])
        return Rejection(403, [_error(path, "forbidden", DENIAL_MESSAGES[denial])])
    update: dict[str, object] = {"received_at": received_at}
    if event.document is not None and event.document.mrz:
        mrz = read_mrz(event.document.mrz, today=received_at.date())
        update = {**cross_check_update(event, mrz), **update}
    event = event.model_copy(update=update)
    return Prepared(
        event=event, topic=topic_for(event), key=traveller_key(event), value=encode(event)
    )


def accept(raw: object, agency: Agency, received_at: dt.datetime) -> Prepared | Rejection:
    """validate, then prepare: the whole intake of one sent value."""
    event = validate(raw, received_at)
    if isinstance(event, Rejection):
        return event
    return prepare(event, agency, received_at)
