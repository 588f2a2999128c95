"""What a format parser yields for each source record, and the helpers every parser shares.

Parsers are pure: they take text and options and yield one ``ParsedRecord`` per source record,
in file order. A record is exactly one of: an entry, a list of errors (bad record), or ignored
(a record of a kind the loader does not carry, e.g. a FollowTheMoney Company).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from schemas.common import to_alpha3
from schemas.errors import ErrorRecord, describe_errors
from schemas.watchlist import Action, ListKind, WatchlistEntry

# What a list asks an officer to do when the feed does not say (``--action`` overrides).
DEFAULT_ACTIONS: dict[ListKind, Action] = {
    ListKind.RED_NOTICE: Action.ARREST,
    ListKind.YELLOW_NOTICE: Action.PROTECT,
    ListKind.DIFFUSION: Action.LOCATE,
    ListKind.BLUE_NOTICE: Action.LOCATE,
    ListKind.GREEN_NOTICE: Action.INFORM,
    ListKind.SLTD: Action.SEIZE_DOCUMENT,
}


class LoadOptions(BaseModel):
    """Operator choices that fill what a feed leaves out (all optional; formats say which apply)."""

    model_config = ConfigDict(frozen=True)

    list_kind: ListKind | None = None
    issuer: str | None = None
    action: Action | None = None

    def action_for(self, kind: ListKind) -> Action:
        return self.action or DEFAULT_ACTIONS[kind]


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    """One source record: ``line`` is its line number, or its 1-based index in a JSON document."""

    line: int
    where: str  # "line 12", "red_details[0]": what the operator looks for in the file
    entry: WatchlistEntry | None = None
    errors: list[ErrorRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ignored: str | None = None  # why a record of another kind was passed over

    @property
    def ok(self) -> bool:
        return self.entry is not None


def error(field_name: str, rule: str, message: str) -> ErrorRecord:
    return ErrorRecord(field=field_name, rule=rule, message=message)


def build_entry(
    line: int, where: str, raw: Mapping[str, Any], warnings: list[str] | None = None
) -> ParsedRecord:
    """Validate a mapped entry; the model's own rules name the field that is wrong."""
    try:
        entry = WatchlistEntry.model_validate(raw)
    except ValidationError as exc:
        return ParsedRecord(line, where, errors=describe_errors(exc), warnings=warnings or [])
    return ParsedRecord(line, where, entry=entry, warnings=warnings or [])


def country_or_raw(code: str) -> str:
    """alpha-2/alpha-3 to alpha-3; an unknown code is passed on so the model rejects it by name."""
    try:
        return to_alpha3(code)
    except ValueError:
        return code
