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
import dataclasses
import io
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

from schemas.common import COUNTRY_CODES, DOCUMENT_NUMBER_MAX_LENGTH, normalise_document_number
from schemas.watchlist import (
    Action,
    EntryStatus,
    ListKind,
    SltdDocument,
    SltdStatus,
    WatchlistEntry,
)
from services.watchlist.parsed import (
    DEFAULT_ACTIONS,
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
            "status": _status_text(cell["status"]),
        },
    }
    return build_entry(number, where, raw, [])


def _derived_id(state: str | None, number: str | None) -> str:
    if state is None or number is None:
        return "DOC-UNKNOWN"  # the record is rejected for its missing cell, which is named
    return f"DOC-{state}-{normalise_document_number(number)}"


def _status_text(cell: str) -> str:
    """A status cell as the model reads it: case and spaces forgiven."""
    return cell.lower().replace(" ", "_").replace("-", "_")


class PlainRow(NamedTuple):
    """A row that says only what the common SLTD row says: its key (``UZB:FA1234567``), type
    (empty when none) and status; its id is the derived one, its issuer the issuing state."""

    key: str
    type: str
    status: str


def plain_entry(row: PlainRow) -> WatchlistEntry:
    """The entry ``parse`` makes of a plain row, built without checking again what
    ``plain_rows`` checked (``test_sltd_plain`` holds the two equal)."""
    state, _, number = row.key.partition(":")
    document = SltdDocument.model_construct(
        number=number, issuing_state=state, type=row.type or None, status=SltdStatus(row.status)
    )
    return WatchlistEntry.model_construct(
        entry_id=f"DOC-{state}-{number}", list=ListKind.SLTD, status=EntryStatus.ACTIVE,
        issuer=state, action=DEFAULT_ACTIONS[ListKind.SLTD], document=document,
    )  # fmt: skip


_STATUSES = frozenset(status.value for status in SltdStatus)
_TYPE = re.compile(r"[A-Z][A-Z0-9]?")


def plain_rows(text: str, options: LoadOptions) -> Iterator[PlainRow | ParsedRecord] | None:
    """The rows of ``text`` in order, as ``parse`` reads them, but with the plain ones (no
    quotes, a known state, a number of upper-case letters and digits, a known status and type,
    no id or issuer of their own, the default action) as ``PlainRow``: they need none of the
    model's work, which at 10^8 rows is most of a build. Every other row is parsed alone, with
    its line number. None when the text is not of the plain shape at all (quoted cells, line
    ends other than LF or CRLF, a header without the required columns)."""
    if '"' in text or "\0" in text or text.count("\r") != text.count("\r\n"):
        return None
    if options.action_for(ListKind.SLTD) is not DEFAULT_ACTIONS[ListKind.SLTD]:
        return None
    lines = text.split("\n")
    header = [name.strip().lower() for name in lines[0].rstrip("\r").split(",")]
    if any(name not in header for name in REQUIRED) or len(set(header)) != len(header):
        return None
    return _plain_rows(lines, header, options)


def _plain_rows(
    lines: list[str], header: list[str], options: LoadOptions
) -> Iterator[PlainRow | ParsedRecord]:
    width, at = len(header), {name: n for n, name in enumerate(header)}
    number_at, state_at, status_at = (at[name] for name in REQUIRED)
    own = [at[name] for name in ("entry_id", "issuer") if name in at]
    type_at = at.get("type")
    for n in range(1, len(lines)):
        cells = lines[n].rstrip("\r").split(",")
        if len(cells) == width:
            number = cells[number_at].strip()
            state = _plain_state(cells[state_at])
            status = _plain_status(cells[status_at])
            type_ = "" if type_at is None else _plain_type(cells[type_at])
            if (
                state and status and type_ is not None and _plain_number(number)
                and not any(cells[i].strip() for i in own)
            ):  # fmt: skip
                yield PlainRow(f"{state}:{number}", type_, status)
                continue
        if any(cell.strip() for cell in cells):
            yield from _alone(lines[0].rstrip("\r"), cells, n + 1, options)


def _plain_number(number: str) -> bool:
    """Already in its comparable form: the key's number and the derived id's are this one."""
    return (
        0 < len(number) <= DOCUMENT_NUMBER_MAX_LENGTH
        and number.isascii() and number.isalnum() and number == number.upper()
    )  # fmt: skip


@lru_cache(maxsize=4096)
def _plain_state(cell: str) -> str | None:
    state = country_or_raw(cell.strip()) if cell.strip() else None
    return state if state in COUNTRY_CODES else None


@lru_cache(maxsize=4096)
def _plain_status(cell: str) -> str | None:
    status = _status_text(cell.strip())
    return status if status in _STATUSES else None


@lru_cache(maxsize=4096)
def _plain_type(cell: str) -> str | None:
    code = cell.strip().upper()
    return code if not code or _TYPE.fullmatch(code) else None


def _alone(
    header: str, cells: list[str], line: int, options: LoadOptions
) -> Iterator[ParsedRecord]:
    """One row parsed as ``parse`` does, numbered as in the whole text."""
    for record in parse(f"{header}\n{','.join(cells)}\n", options):
        yield dataclasses.replace(record, line=line, where=f"line {line}")
