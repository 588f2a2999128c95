"""Response bodies of the HTTP API and the request schemas shown in the OpenAPI document.

Requests are not parsed by FastAPI: handlers read the bytes (with a size limit) and validate
with ``schemas`` directly, so the request schema is injected into the document here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fastapi.security.base import SecurityBase
from pydantic import BaseModel, Field

from schemas.event import Event, FieldFlag
from services.ingest.domain.intake import SET_BY_INGEST


class FieldError(BaseModel):
    """One field at fault (the shape of ``schemas.errors.ErrorRecord``)."""

    field: str = Field(description='Dotted path with list indices: "traveller.surname"')
    rule: str = Field(description='Machine-readable rule broken: "missing", "country_code"...')
    message: str = Field(description="Human-readable explanation")


class Problem(BaseModel):
    """Every error answer: the HTTP status, a title, and the fields at fault when known."""

    status: int = Field(description="The HTTP status code, repeated")
    title: str = Field(description="What went wrong, in a few words")
    detail: str | None = Field(None, description="More about it, when useful")
    errors: list[FieldError] = Field(
        default_factory=list, description="One record per field at fault (dotted path)"
    )


class Accepted(BaseModel):
    """The event is stored: the broker acknowledged it (or it was stored before)."""

    event_id: str
    outcome: Literal["accepted", "duplicate"] = Field(
        description="accepted: stored now; duplicate: this event_id was stored recently"
    )
    flags: list[FieldFlag] = Field(
        default_factory=list, description="Fields ingest flagged (e.g. disagree with the MRZ)"
    )


class ItemResult(BaseModel):
    """The fate of one event of a batch."""

    index: int = Field(description="Position in the request's events array")
    event_id: str | None = Field(None, description="The event's id, when it had one")
    status: int = Field(description="202 stored, 403 forbidden, 422 invalid, 503 not stored")
    outcome: Literal["accepted", "duplicate", "rejected", "forbidden", "unavailable"]
    errors: list[FieldError] = Field(default_factory=list)
    flags: list[FieldFlag] = Field(default_factory=list)


class BatchResult(BaseModel):
    """One result per event, in request order."""

    accepted: int = Field(description="Events stored (including duplicates)")
    rejected: int = Field(description="Events not stored")
    results: list[ItemResult]


def _close_objects(schema: dict[str, Any]) -> None:
    """The HTTP intake rejects unknown fields; say so in the schema too."""
    if schema.get("type") == "object" and "properties" in schema:
        schema["additionalProperties"] = False


def event_input_schemas(batch_max: int) -> dict[str, dict[str, Any]]:
    """Component schemas: ``EventIn`` (an event as sent) and ``EventBatch``, plus their parts."""
    schema = Event.model_json_schema(ref_template="#/components/schemas/{model}")
    defs: dict[str, dict[str, Any]] = schema.pop("$defs", {})
    for name in SET_BY_INGEST:
        schema["properties"].pop(name, None)
    defs.pop("FieldFlag", None)
    schema["title"] = "EventIn"
    schema["description"] = (
        "A border-crossing or document-check event as a border agency sends it. "
        "direction is required when type is border_crossing."
    )
    for part in (schema, *defs.values()):
        _close_objects(part)
    batch = {
        "title": "EventBatch",
        "type": "object",
        "properties": {
            "events": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/EventIn"},
                "minItems": 1,
                "maxItems": batch_max,
            }
        },
        "required": ["events"],
        "additionalProperties": False,
    }
    return {**defs, "EventIn": schema, "EventBatch": batch}


def request_body(component: str, description: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}
            },
        }
    }


@dataclass(frozen=True)
class SecurityDoc:
    """Security schemes documented without FastAPI dependencies (handlers check keys
    themselves): ``operation`` goes into ``openapi_extra``, ``schemes`` into the components."""

    operation: dict[str, Any]
    schemes: dict[str, dict[str, Any]]


def security_requirements(*schemes: SecurityBase) -> SecurityDoc:
    """What ``Depends(scheme)`` would document: any one of ``schemes`` is enough."""
    return SecurityDoc(
        operation={"security": [{scheme.scheme_name: []} for scheme in schemes]},
        schemes={
            scheme.scheme_name: scheme.model.model_dump(
                mode="json", by_alias=True, exclude_none=True
            )
            for scheme in schemes
        },
    )
