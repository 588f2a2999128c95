"""The listed side of a hit, as the alert carries it: the entry's person or document.

The index keeps compact records, not models; the snapshot is built back from them once per
entry (cached: a listed person hit at every crossing is built once) and validated by the
alert's own models, so the fast path (``alerts.to_alert_json``) and the model path write the
same bytes. An entry the models refuse (a file read by ``relay screen`` holds anything) gives
no snapshot rather than no alert.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from schemas.alert import MAX_ENTRY_DOCUMENTS, MAX_ENTRY_NAMES, EntryOmitted
from schemas.watchlist import PersonRecord as ListedPerson
from schemas.watchlist import SltdDocument
from services.matcher.domain.records import PersonRecord, SltdRecord

# Entries whose snapshot is kept: a watchlist's alerting entries are a small share of it, and
# only the JSON is kept (a few hundred bytes each), so a repeat pass over a day's alerts finds
# them all.
_CACHED_ENTRIES = 16_384
_MODELS: dict[str, type[BaseModel]] = {
    "entry_person": ListedPerson,
    "entry_document": SltdDocument,
    "entry_omitted": EntryOmitted,
}


def fragments(entry: PersonRecord | SltdRecord | None) -> dict[str, orjson.Fragment]:
    """The alert fields of the entry as JSON that ``orjson`` writes as is (the fast path)."""
    return {name: orjson.Fragment(raw) for name, raw in _snapshot(entry)}


def models(entry: PersonRecord | SltdRecord | None) -> dict[str, BaseModel]:
    """The same fields as models (the model path: retro-screening, tests)."""
    return {name: _MODELS[name].model_validate_json(raw) for name, raw in _snapshot(entry)}


@lru_cache(maxsize=_CACHED_ENTRIES)
def _snapshot(entry: PersonRecord | SltdRecord | None) -> tuple[tuple[str, bytes], ...]:
    """(alert field, its JSON as ``encode`` writes it), in the Alert model's field order."""
    try:
        if isinstance(entry, PersonRecord):
            return tuple((name, _json(model)) for name, model in _person(entry))
        if isinstance(entry, SltdRecord):
            document = SltdDocument.model_validate(_sltd(entry), strict=False)
            return (("entry_document", _json(document)),)
    except ValidationError:
        pass
    return ()


def _person(entry: PersonRecord) -> list[tuple[str, BaseModel]]:
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
        return [("entry_person", person)]
    omitted = EntryOmitted(names=left_out[0], documents=left_out[1])
    return [("entry_person", person), ("entry_omitted", omitted)]


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


def _json(model: BaseModel) -> bytes:
    return model.__pydantic_serializer__.to_json(model, exclude_none=True)
