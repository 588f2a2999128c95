"""How the store writes the screener's records: marshal tuples, with the common values left out.

A document's value is the tuple of its holders: an SLTD record as a tuple of its fields, or a
person entry as its entry id (the person itself lives in memory, filed by id). Fields equal to
what the key already says are written as ``SAME`` (0): the issuing state, the derived entry
id ``DOC-<state>-<number>`` of an SLTD CSV, the issuer when it is the issuing state, and the
action ``seize_document``. At 10^8 documents every byte left out is 100 MB of disk.
"""

from __future__ import annotations

import marshal
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from services.matcher.domain.records import DocumentRef, NameForm, PersonRecord, SltdRecord

SAME = 0
_SEIZE = "seize_document"
_VERSION = 4  # marshal's format: short strings cost two bytes of header

Holder = SltdRecord | str  # a person's holder is its entry id
# Between a stored person's blocking keys: one bytes object per person decodes several times
# faster than a tuple of strings, and the native vocabulary files it without making them.
KEY_SEPARATOR = "\n"


class StoreCorrupt(Exception):
    """A value that does not decode: the store file is damaged."""


def derived_id(key: str) -> str:
    """The entry id an SLTD CSV gives a document without one (``DOC-UZB-FA1234567``)."""
    return "DOC-" + key.replace(":", "-", 1)


def derived_key(entry_id: str) -> str | None:
    """The key a derived id (``DOC-UZB-FA1234567``) names, if it is one."""
    prefix, _, rest = entry_id.partition("-")
    state, _, number = rest.partition("-")
    return f"{state}:{number}" if prefix == "DOC" and number else None


def _state_of(key: str) -> str:
    return key.partition(":")[0]


def _same(value: Any, default: Any) -> Any:
    return SAME if value == default and value is not None else value


def _back(value: Any, default: Any) -> Any:
    return default if value == SAME else value


def pack_sltd(record: SltdRecord) -> tuple[Any, ...]:
    key = record.key or ""
    state = _state_of(key) if record.key else None
    return (
        _same(record.entry_id, derived_id(key)),
        _same(record.issuer, record.issuing_state),
        _same(record.action, _SEIZE),
        record.listed_number,
        _same(record.issuing_state, state),
        record.type,
        record.status,
        record.restricted_to,
    )


def unpack_sltd(key: str, packed: Sequence[Any]) -> SltdRecord:
    entry_id, issuer, action, listed, state, type_, status, restricted = packed
    issuing_state = _code(_back(state, _state_of(key)))
    return SltdRecord(
        entry_id=_back(entry_id, derived_id(key)),
        issuer=_code(_back(issuer, issuing_state)),
        action=_code(_back(action, _SEIZE)),
        key=key or None,
        listed_number=listed,
        issuing_state=issuing_state,
        type=_code(type_),
        status=_code(status),
        restricted_to=None if restricted is None else tuple(map(sys.intern, restricted)),
    )


def _code(value: str | None) -> str | None:
    return None if value is None else sys.intern(value)


def pack_holders(holders: Sequence[Holder]) -> bytes:
    packed = tuple(h if isinstance(h, str) else pack_sltd(h) for h in holders)
    return marshal.dumps(packed, _VERSION)


def unpack_holders(key: str, value: bytes) -> tuple[Holder, ...]:
    try:
        packed = marshal.loads(value)  # noqa: S302 - the store's own file, written by us
        return tuple(h if isinstance(h, str) else unpack_sltd(key, h) for h in packed)
    except (ValueError, EOFError, TypeError) as exc:
        raise StoreCorrupt(f"document value does not decode ({exc})") from exc


def pack_person(record: PersonRecord, keys: Sequence[str], single: bool) -> bytes:
    """A person with its blocking keys: a restart files it without working them out again, and
    keeps the record itself packed until a screening first reaches it (``decode_person``)."""
    fields = (
        record.entry_id,
        record.list,
        record.issuer,
        record.action,
        tuple((n.surname, n.given_names, n.patronymic) for n in record.names),
        record.date_of_birth,
        record.sex,
        record.nationalities,
        tuple((d.number, d.issuing_state, d.type) for d in record.documents),
        record.restricted_to,
    )
    if any(not key or KEY_SEPARATOR in key for key in keys):
        raise ValueError("a blocking key is empty or holds the key separator")
    joined = KEY_SEPARATOR.join(keys).encode()
    return marshal.dumps((joined, single, marshal.dumps(fields, _VERSION)), _VERSION)


def unpack_keys(value: bytes) -> tuple[tuple[str, ...], bool, bytes]:
    """(blocking keys, single, the packed record) of a stored person."""
    keys, singles, packed = unpack_keys_many((value,))
    joined = keys[0].decode()
    return tuple(joined.split(KEY_SEPARATOR)) if joined else (), singles[0], packed[0]


def unpack_keys_many(
    values: Iterable[bytes],
) -> tuple[Sequence[bytes], Sequence[bool], Sequence[bytes]]:
    """Many stored people at once, as three columns: each one's blocking keys as kept (one
    bytes, ``KEY_SEPARATOR`` between keys, as ``relay_vocabulary.Core.add_bulk`` takes them),
    single, and the packed record."""
    try:
        rows = list(map(marshal.loads, values))
        if not rows:
            return (), (), ()
        keys, singles, packed = zip(*rows, strict=True)
    except (ValueError, EOFError, TypeError) as exc:
        raise StoreCorrupt(f"person value does not decode ({exc})") from exc
    return keys, singles, packed


def decode_person(packed: bytes) -> PersonRecord:
    try:
        entry_id, kind, issuer, action, names, dob, sex, nationalities, documents, restricted = (
            marshal.loads(packed)  # noqa: S302 - as above
        )
        return PersonRecord(
            entry_id=entry_id,
            list=sys.intern(kind),
            issuer=_code(issuer),
            action=_code(action),
            names=tuple(NameForm(*n) for n in names),
            date_of_birth=dob,
            sex=_code(sex),
            nationalities=tuple(map(sys.intern, nationalities)),
            documents=tuple(DocumentRef(n, _code(s), _code(t)) for n, s, t in documents),
            restricted_to=None if restricted is None else tuple(map(sys.intern, restricted)),
        )
    except (ValueError, EOFError, TypeError) as exc:
        raise StoreCorrupt(f"person value does not decode ({exc})") from exc


def unpack_person(value: bytes) -> tuple[PersonRecord, tuple[str, ...], bool]:
    keys, single, packed = unpack_keys(value)
    return decode_person(packed), keys, single
