"""The listed side of a hit, as the alert carries it: the entry's person or document.

The index keeps compact records, not models; the snapshot is built back from them once per
entry (cached: a listed person hit at every crossing is built once) and validated by the
alert's own models, so the fast path (``alerts.to_alert_json``) and the model path write the
same bytes. An entry the models refuse (a file read by ``relay screen`` holds anything) gives
no snapshot rather than no alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from schemas.alert import MAX_ENTRY_DOCUMENTS, MAX_ENTRY_NAMES, EntryOmitted
from schemas.watchlist import PersonRecord as ListedPerson
from schemas.watchlist import SltdDocument
from services.matcher.domain.records import PersonRecord, SltdRecord

_CACHED_ENTRIES = 4096


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The alert fields of one entry (in the Alert model's field order), as models and as the
    JSON ``encode`` writes for them."""

    models: dict[str, BaseModel]
    fragments: dict[str, orjson.Fragment]

    @classmethod
    def of(cls, *fields: tuple[str, BaseModel]) -> Snapshot:
        return cls(dict(fields), {name: _json(model) for name, model in fields})


NONE = Snapshot({}, {})


@lru_cache(maxsize=_CACHED_ENTRIES)
def snapshot_of(entry: PersonRecord | SltdRecord | None) -> Snapshot:
    try:
        if isinstance(entry, PersonRecord):
            return _person(entry)
        if isinstance(entry, SltdRecord):
            return Snapshot.of(
                ("entry_document", SltdDocument.model_validate(_sltd(entry), strict=False))
            )
    except ValidationError:
        pass
    return NONE


def _person(entry: PersonRecord) -> Snapshot:
    names = [_dropping_none(vars_of(name)) for name in entry.names]
    documents = [_dropping_none(vars_of(doc)) for doc in entry.documents]
    person = ListedPerson.model_validate(
        _dropping_none(
            {
                "names": names[:MAX_ENTRY_NAMES],
                "date_of_birth": entry.date_of_birth,
                "sex": entry.sex,
                "nationalities": list(entry.nationalities),
                "documents": documents[:MAX_ENTRY_DOCUMENTS],
            }
        ),
        strict=False,
    )
    left_out = (len(names) - len(person.names), len(documents) - len(person.documents))
    if left_out == (0, 0):
        return Snapshot.of(("entry_person", person))
    omitted = EntryOmitted(names=left_out[0], documents=left_out[1])
    return Snapshot.of(("entry_person", person), ("entry_omitted", omitted))


def _sltd(entry: SltdRecord) -> dict[str, Any]:
    return _dropping_none(
        {
            "number": entry.number,
            "issuing_state": entry.issuing_state,
            "type": entry.type,
            "status": entry.status,
        }
    )


def vars_of(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}


def _dropping_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _json(model: BaseModel) -> orjson.Fragment:
    return orjson.Fragment(model.__pydantic_serializer__.to_json(model, exclude_none=True))
