"""Validation errors as plain records that name the field path and the rule broken."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from pydantic import ValidationError


class ErrorRecord(TypedDict):
    field: str  # dotted path with list indices: "person.names[1].surname"
    rule: str  # machine-readable rule (pydantic error type): "country_code", "missing"...
    message: str  # human-readable, safe to show the sender (never echoes a whole name)


def field_path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def describe_errors(exc: ValidationError) -> list[ErrorRecord]:
    """Every error of ``exc``, in the order pydantic found them."""
    records: list[ErrorRecord] = []
    for error in exc.errors(include_url=False, include_input=False):
        loc: list[int | str] = list(error["loc"])
        ctx: dict[str, Any] = error.get("ctx") or {}
        if "field" in ctx:  # model-level rules say which field they are about
            loc.append(str(ctx["field"]))
        records.append(
            ErrorRecord(
                field=field_path(loc) or "(message)", rule=error["type"], message=error["msg"]
            )
        )
    return records


def summarise_errors(exc: ValidationError, limit: int = 3) -> str:
    """One line for a DLQ header: ``traveller.surname: name_bidi_char; ...``."""
    records = describe_errors(exc)
    text = "; ".join(f"{r['field']}: {r['rule']}" for r in records[:limit])
    if len(records) > limit:
        text += f"; and {len(records) - limit} more"
    return text
