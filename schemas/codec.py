"""The hot path: bytes <-> models, once per Kafka message.

Decoding uses pydantic-core's own JSON parser (``model_validate_json``): one pass in Rust, and
the only way strict mode can read RFC 3339 timestamps from JSON. Encoding uses the compiled
serializer's ``to_json`` (bytes straight from Rust). ``bench/bench_schemas.py`` measures the
alternatives (orjson.loads + model_validate, orjson.dumps(model_dump)) - see schemas/README.md.

The schema version travels in the Kafka header ``relay-schema`` as ``<message>/<major>``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, get_args

import orjson
from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails

from schemas import alert, event, hit_report, lead, listed_hit, notification, suppression, watchlist
from schemas.alert import Alert
from schemas.event import Event
from schemas.headers import H_SCHEMA
from schemas.hit_report import HitReport
from schemas.lead import Lead
from schemas.listed_hit import ListedHit
from schemas.notification import (
    Acknowledgement,
    AuditRecord,
    Cancellation,
    Notification,
    Revocation,
)
from schemas.suppression import Suppression
from schemas.watchlist import WatchlistEntry

M = TypeVar("M", bound=BaseModel)

SCHEMA_VERSIONS: dict[type[BaseModel], str] = {
    Event: event.SCHEMA_VERSION,
    Alert: alert.SCHEMA_VERSION,
    WatchlistEntry: watchlist.SCHEMA_VERSION,
    Notification: notification.NOTIFICATION_VERSION,
    Acknowledgement: notification.ACK_VERSION,
    AuditRecord: notification.AUDIT_VERSION,
    Revocation: notification.REVOCATION_VERSION,
    Cancellation: notification.CANCELLATION_VERSION,
    Lead: lead.SCHEMA_VERSION,
    HitReport: hit_report.SCHEMA_VERSION,
    Suppression: suppression.SCHEMA_VERSION,
    ListedHit: listed_hit.SCHEMA_VERSION,
}


class SchemaVersionError(ValueError):
    """A message of another kind, or of a newer major version this consumer cannot read."""


def decode(model: type[M], data: bytes | str) -> M:
    return model.model_validate_json(data)


def decode_event(data: bytes | str) -> Event:
    return Event.model_validate_json(data)


def decode_alert(data: bytes | str) -> Alert:
    return Alert.model_validate_json(data)


def decode_entry(data: bytes | str) -> WatchlistEntry:
    return WatchlistEntry.model_validate_json(data)


def encode(model: BaseModel) -> bytes:
    """Compact JSON; absent optional fields are left out rather than written as null."""
    return model.__pydantic_serializer__.to_json(model, exclude_none=True)


def schema_header(model: type[BaseModel]) -> tuple[str, bytes]:
    """The (key, value) Kafka header a producer attaches: ``("relay-schema", b"event/1")``."""
    return H_SCHEMA, SCHEMA_VERSIONS[model].encode()


def check_schema_header(
    headers: Iterable[tuple[str, bytes]] | Mapping[str, bytes] | None, model: type[BaseModel]
) -> None:
    """Accept the same message kind at our major version or without a header (older producers).

    Raises SchemaVersionError for another kind or a different major version. Minor, additive
    changes never change the header: unknown fields are ignored by the models.
    """
    items = headers.items() if isinstance(headers, Mapping) else (headers or [])
    expected = SCHEMA_VERSIONS[model]
    for key, value in items:
        if key != H_SCHEMA:
            continue
        text = value.decode("utf-8", "replace")
        if text.split(".", 1)[0] != expected:
            raise SchemaVersionError(f"{H_SCHEMA} is {text!r}, this consumer reads {expected}")


def find_unknown_fields(raw: Any, model: type[BaseModel], prefix: str = "") -> list[str]:
    """Paths of keys in ``raw`` that ``model`` does not define (for strict HTTP intake)."""
    if not isinstance(raw, dict):
        return []
    fields = _field_models(model)
    unknown: list[str] = []
    for key, value in raw.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if key not in fields:
            unknown.append(path)
            continue
        nested = fields[key]
        if nested is None:
            continue
        if isinstance(value, list):
            for i, item in enumerate(value):
                unknown.extend(find_unknown_fields(item, nested, f"{path}[{i}]"))
        else:
            unknown.extend(find_unknown_fields(value, nested, path))
    return unknown


@functools.cache
def _field_models(model: type[BaseModel]) -> dict[str, type[BaseModel] | None]:
    """Field name -> the model it holds, if any; worked out once per model (hot path)."""
    return {name: _nested_model(info.annotation) for name, info in model.model_fields.items()}


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def decode_event_strict(data: bytes | str) -> Event:
    """Ingest's HTTP boundary: like ``decode_event`` but unknown fields are errors too."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError:
        return decode_event(data)  # let pydantic report the JSON error with its position
    unknown = find_unknown_fields(raw, Event)
    if unknown:
        errors = [_extra_error(path) for path in unknown]
        raise ValidationError.from_exception_data("Event", errors, input_type="json")
    return decode_event(data)


def _extra_error(path: str) -> InitErrorDetails:
    loc = tuple(part for part in path.replace("[", ".").replace("]", "").split("."))
    typed: tuple[int | str, ...] = tuple(int(p) if p.isdigit() else p for p in loc)
    return InitErrorDetails(type="extra_forbidden", loc=typed, input=None)
