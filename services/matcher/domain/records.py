"""The screener's own compact records, and the adapter that builds them.

A watchlist holds 10^5 people and 10^6 documents, so the screener keeps slotted records of
plain strings (codes interned), never a pydantic model per entry. ``entry_record`` and
``event_record`` accept a decoded JSON mapping or a pydantic model of ``schemas``.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from pydantic import BaseModel

from schemas.event import Event
from schemas.watchlist import ListKind, WatchlistEntry
from services.matcher.domain.documents import document_key

PERSON_LISTS = frozenset(
    {"red_notice", "yellow_notice", "diffusion", "blue_notice", "green_notice"}
)
SLTD = "sltd"


@dataclass(frozen=True, slots=True)
class NameForm:
    surname: str | None
    given_names: str | None
    patronymic: str | None


@dataclass(frozen=True, slots=True)
class DocumentRef:
    number: str
    issuing_state: str | None
    type: str | None


@dataclass(frozen=True, slots=True)
class PersonRecord:
    entry_id: str
    list: str
    issuer: str | None
    action: str | None
    names: tuple[NameForm, ...]
    date_of_birth: str | None
    sex: str | None
    nationalities: tuple[str, ...]
    documents: tuple[DocumentRef, ...]
    restricted_to: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class SltdRecord:
    """One stolen or lost document, flat (10^6 of these).

    ``key`` (issuing state + normalised number) is the very string the index files it under;
    the number as listed is kept apart only when it differs from the normalised one.
    """

    entry_id: str
    issuer: str | None
    action: str | None
    key: str | None
    listed_number: str | None
    issuing_state: str | None
    type: str | None
    status: str | None
    restricted_to: tuple[str, ...] | None = None

    @property
    def list(self) -> str:
        return SLTD

    @property
    def number(self) -> str:
        if self.listed_number is not None or self.key is None:
            return self.listed_number or ""
        return self.key.partition(":")[2]

    @property
    def document(self) -> DocumentRef:
        return DocumentRef(self.number, self.issuing_state, self.type)


@dataclass(frozen=True, slots=True)
class Cancelled:
    """An entry that must stop matching: status ``cancelled`` (tombstones come as ids)."""

    entry_id: str


EntryRecord = PersonRecord | SltdRecord | Cancelled


class EventRecord(NamedTuple):
    """One event as the screener reads it (a tuple: built once per event, in half the time a
    frozen dataclass takes)."""

    event_id: str
    # RFC 3339 text, or the datetime of a validated model: written out (``timestamp_text``)
    # only for the few events that match something.
    occurred_at: str | dt.datetime
    country: str | None
    surname: str | None
    given_names: str | None
    date_of_birth: str | None
    sex: str | None
    nationality: str | None
    document: DocumentRef | None
    patronymic: str | None = None
    # The document's MRZ lines as read, and ingest's verdict on them (None: not ingested, or
    # no MRZ): the screener reads the MRZ's name and, for a match, its check digits.
    mrz: tuple[str, ...] | None = None
    mrz_valid: bool | None = None


def _field(source: Any, name: str) -> Any:
    """A field of a decoded JSON mapping or of a schemas model (read as an attribute)."""
    if isinstance(source, BaseModel):  # checked first: a Mapping check is an ABC lookup
        return getattr(source, name, None)
    if isinstance(source, Mapping):
        return source.get(name)
    return getattr(source, name, None)


def _code(value: Any) -> str | None:
    # str() of a StrEnum member is its value; codes are interned, shared by a million records
    return sys.intern(str(value)) if value is not None else None


def _restricted(raw: Any) -> tuple[str, ...] | None:
    dissemination = _field(raw, "dissemination")
    if not dissemination:
        return None
    return tuple(sys.intern(str(c)) for c in _field(dissemination, "restricted_to") or ())


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _document(raw: Any) -> DocumentRef | None:
    if not raw or not _field(raw, "number"):
        return None
    return DocumentRef(
        number=str(_field(raw, "number")),
        issuing_state=_code(_field(raw, "issuing_state")),
        type=_code(_field(raw, "type")),
    )


def entry_record(source: Mapping[str, Any] | Any) -> EntryRecord:
    """Compact record of one watchlist entry. Raises ValueError naming what is missing."""
    if isinstance(source, WatchlistEntry) and source.list is ListKind.SLTD and source.is_active:
        return _sltd_from_model(source)
    raw = source
    entry_id = _field(raw, "entry_id")
    if not isinstance(entry_id, str) or not entry_id:
        raise ValueError("entry_id is missing")
    if str(_field(raw, "status") or "active") == "cancelled":
        return Cancelled(entry_id)
    kind = str(_field(raw, "list"))
    if kind == SLTD:
        return _sltd(entry_id, raw)
    if kind in PERSON_LISTS:
        return _person(entry_id, str(kind), raw)
    raise ValueError(f"list {kind!r} is not one of sltd, {', '.join(sorted(PERSON_LISTS))}")


def _sltd(entry_id: str, raw: Any) -> SltdRecord:
    document = _document(_field(raw, "document"))
    if document is None:
        raise ValueError("an sltd entry needs document.number")
    status = _field(_field(raw, "document"), "status")
    key = document_key(document.issuing_state, document.number)
    return SltdRecord(
        entry_id=entry_id,
        issuer=_code(_field(raw, "issuer")),
        action=_code(_field(raw, "action")),
        key=key,
        listed_number=None
        if key is not None and key.endswith(":" + document.number)
        else document.number,
        issuing_state=document.issuing_state,
        type=document.type,
        status=_code(status),
        restricted_to=_restricted(raw),
    )


def _sltd_from_model(entry: WatchlistEntry) -> SltdRecord:
    """The hot path of a bulk build (10^8 documents): a validated SLTD entry read by
    attribute; the same record as ``_sltd`` makes (test_entry_records holds the two level)."""
    document = entry.document
    assert document is not None  # the model requires it of an sltd entry
    number = document.number
    state = sys.intern(document.issuing_state)
    key = document_key(state, number)
    restricted = entry.dissemination
    return SltdRecord(
        entry_id=entry.entry_id,
        issuer=sys.intern(entry.issuer),
        action=sys.intern(entry.action.value),
        key=key,
        listed_number=None if key is not None and key.endswith(":" + number) else number,
        issuing_state=state,
        type=None if document.type is None else sys.intern(document.type),
        status=sys.intern(document.status.value),
        restricted_to=None
        if restricted is None
        else tuple(sys.intern(c) for c in restricted.restricted_to),
    )


def _person(entry_id: str, kind: str, raw: Any) -> PersonRecord:
    person = _field(raw, "person")
    if person is None:
        raise ValueError(f"a {kind} entry needs a person")
    names = tuple(
        NameForm(
            _text(_field(n, "surname")),
            _text(_field(n, "given_names")),
            _text(_field(n, "patronymic")),
        )
        for n in _field(person, "names") or ()
    )
    documents = tuple(d for d in (_document(x) for x in _field(person, "documents") or ()) if d)
    if not names and not documents:
        raise ValueError("a person entry needs at least one name or document")
    return PersonRecord(
        entry_id=entry_id,
        list=sys.intern(kind),
        issuer=_code(_field(raw, "issuer")),
        action=_code(_field(raw, "action")),
        names=names,
        date_of_birth=_text(_field(person, "date_of_birth")),
        sex=_code(_field(person, "sex")),
        nationalities=tuple(sys.intern(str(c)) for c in _field(person, "nationalities") or ()),
        documents=documents,
        restricted_to=_restricted(raw),
    )


def event_record(source: Mapping[str, Any] | Any) -> EventRecord:
    """Compact view of one event. Raises ValueError naming what is missing."""
    if isinstance(source, Event):
        return _event_from_model(source)
    raw = source
    event_id = _field(raw, "event_id")
    if not isinstance(event_id, str) or not event_id:
        raise ValueError("event_id is missing")
    traveller = _field(raw, "traveller")
    mrz = _field(_field(raw, "document"), "mrz")
    valid = _field(raw, "mrz_valid")
    return EventRecord(
        event_id=event_id,
        occurred_at=timestamp_text(_field(raw, "occurred_at")),
        country=_code(_field(raw, "country")),
        surname=_text(_field(traveller, "surname")),
        given_names=_text(_field(traveller, "given_names")),
        date_of_birth=_text(_field(traveller, "date_of_birth")),
        sex=_code(_field(traveller, "sex")),
        nationality=_code(_field(traveller, "nationality")),
        document=_document(_field(raw, "document")),
        patronymic=_text(_field(traveller, "patronymic")),
        mrz=tuple(str(line) for line in mrz) if isinstance(mrz, list | tuple) and mrz else None,
        mrz_valid=valid if isinstance(valid, bool) else None,
    )


def _event_from_model(event: Event) -> EventRecord:
    """The hot path: a validated ``schemas`` Event, read by attribute (no per-field checks)."""
    traveller = event.traveller
    document = event.document
    return EventRecord(
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        country=sys.intern(event.country),
        surname=traveller.surname or None,
        given_names=traveller.given_names or None,
        date_of_birth=traveller.date_of_birth or None,
        sex=traveller.sex,
        nationality=traveller.nationality,
        document=None
        if document is None
        else DocumentRef(document.number, document.issuing_state, document.type),
        patronymic=traveller.patronymic or None,
        mrz=tuple(document.mrz) if document is not None and document.mrz else None,
        mrz_valid=event.mrz_valid,
    )


def timestamp_text(value: Any) -> str:
    """RFC 3339 text; a datetime from a model is written with Z for UTC, as events are."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat()).replace("+00:00", "Z")
    return str(value)
