"""Stolen and lost travel documents (SLTD) as CSV with a header row.

Columns (header names are trimmed and case-insensitive, order free, others ignored):
``number``, ``issuing_state`` (alpha-3 or alpha-2), ``status`` (stolen, stolen_blank, lost,
revoked, invalidated; case and spaces forgiven) are required; ``type`` (ICAO code: P, ID...),
``entry_id`` and ``issuer`` are optional.

- ``entry_id`` absent or empty -> ``DOC-<STATE>-<number>`` with the number in its comparable form
  (separators removed, upper case), so ``FA 123`` and ``fa-123`` reload onto the same key.
- ``issuer`` absent or empty -> the issuing state.
- list ``sltd``, action ``seize_document`` (``--action`` overrides), status ``active``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from schemas.common import normalise_document_number
from schemas.watchlist import Action, ListKind
from services.watchlist.parsed import (
    LoadOptions,
    ParsedRecord,
    build_entry,
    country_or_raw,
    error,
)

REQUIRED = ("number", "issuing_state", "status")
_SLTD = ListKind.SLTD.value


def parse(text: str, options: LoadOptions) -> Iterator[ParsedRecord]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        msg = f"the header row lacks column(s) {', '.join(missing)}; it has {', '.join(header)}"
        yield ParsedRecord(1, "line 1", errors=[error("(header)", "missing_column", msg)])
        return
    start = reader.line_num + 1
    action = options.action_for(ListKind.SLTD)  # once: an enum member costs a lookup each time
    for row in reader:
        if any(cell.strip() for cell in row):
            yield _record(start, header, row, action)
        start = reader.line_num + 1


def _record(number: int, header: list[str], row: list[str], action: Action) -> ParsedRecord:
    where = f"line {number}"
    if len(row) != len(header):
        msg = f"{len(row)} cells where the header has {len(header)} columns"
        return ParsedRecord(number, where, errors=[error("(row)", "column_count", msg)])
    cell = {key: value.strip() for key, value in zip(header, row, strict=True)}
    state = country_or_raw(cell["issuing_state"]) if cell["issuing_state"] else None
    doc_number = cell["number"] or None
    entry_id = cell.get("entry_id") or _derived_id(state, doc_number)
    raw = {
        "entry_id": entry_id,
        "list": _SLTD,
        "status": "active",
        "issuer": country_or_raw(cell["issuer"]) if cell.get("issuer") else state,
        "action": action,
        "document": {
            "number": doc_number,
            "issuing_state": state,
            "type": cell.get("type", "").upper() or None,
            "status": cell["status"].lower().replace(" ", "_").replace("-", "_"),
        },
    }
    return build_entry(number, where, raw, [])


def _derived_id(state: str | None, number: str | None) -> str:
    if state is None or number is None:
        return "DOC-UNKNOWN"  # the record is rejected for its missing cell, which is named
    return f"DOC-{state}-{normalise_document_number(number)}"
