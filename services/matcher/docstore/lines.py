"""The sort lines of a bulk build: what the parsers write and ``build`` reads back.

Each part of a parse is two files:

- ``<part>.doc``: every entry whose id is the one derived from a document key
  (``DOC-UZB-FA1234567``, the id an SLTD CSV gives), as ``group \\t kind \\t ...`` with the
  group that key. An id names one group, so "the last version of an id wins" is "the last line
  of a group wins": the build sorts these lines stably on the group alone (the files' order
  kept within a group) and files the documents in key order straight from the sort. At 10^8
  documents nearly every line is of this kind, and the common one is short: ``s`` (an active
  SLTD entry that says nothing the key does not: type, status). ``S`` is any other SLTD entry
  under such an id (its key, its packed record), ``C`` a cancellation, ``N`` a person (its
  packed record and document keys).
- ``<part>.gen``: every other entry (people, SLTD entries with ids of their own, their
  cancellations) as ``entry_id \\t seq \\t key \\t kind \\t payload``; the build sorts them by
  id, newest first, keeps each id's latest version and files it.
"""

from __future__ import annotations

import marshal
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from services.matcher.docstore.codec import SAME, derived_id, derived_key, pack_person, pack_sltd
from services.matcher.domain.documents import document_key
from services.matcher.domain.index import person_keys
from services.matcher.domain.records import Cancelled, EntryRecord, PersonRecord, SltdRecord

_SEQ_WIDTH = 20  # a record's place in topic order, written as 10**20 - n: ascending is newest first
_VERSION = 4


def doc_part(base: Path) -> Path:
    return base.with_name(base.name + ".doc")


def gen_part(base: Path) -> Path:
    return base.with_name(base.name + ".gen")


def group_of(entry_id: str) -> str | None:
    """The document key an entry id is derived from, when it is one (``derived_id``)."""
    key = derived_key(entry_id)
    return key if key is not None and derived_id(key) == entry_id else None


def plain_holder(type_: str | None, status: str) -> tuple[Any, ...]:
    """The packed form (``codec.pack_sltd``) of an SLTD entry the ``s`` line describes."""
    return (SAME, SAME, SAME, None, SAME, type_, status, None)


class PartWriter:
    """The two files of one part; ``with PartWriter(base) as out: write_lines(records, out)``."""

    def __init__(self, base: Path) -> None:
        self._doc = doc_part(base).open("w")
        self._gen = gen_part(base).open("w")

    def __enter__(self) -> PartWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._doc.close()
        self._gen.close()

    def plain(self, key: str, type_: str, status: str) -> None:
        """An active SLTD entry under its derived id, with the issuing state, issuer and action
        the key and the default say (what a parser checked them to be)."""
        self._doc.write(f"{key}\ts\t{type_}\t{status}\n")

    def record(self, n: int, record: EntryRecord) -> None:
        """The record at place ``n`` of the feed (increasing in feed order)."""
        group = group_of(record.entry_id)
        if group is None:
            _general(self._gen.write, n, record)
        elif isinstance(record, Cancelled):
            self._doc.write(f"{group}\tC\n")
        elif isinstance(record, SltdRecord):
            packed = pack_sltd(record)
            if record.key == group and packed == plain_holder(record.type, record.status or ""):
                self.plain(group, record.type or "", record.status or "")
            else:
                hexed = marshal.dumps(packed, _VERSION).hex()
                self._doc.write(f"{group}\tS\t{record.key or ''}\t{hexed}\n")
        else:
            packed_person, keys = _person(record)
            self._doc.write(f"{group}\tN\t{packed_person}\t{','.join(keys)}\n")


def write_lines(records: Iterable[tuple[int, EntryRecord]], out: PartWriter) -> int:
    """Write (place in feed order, record); returns how many records were written."""
    written = 0
    for n, record in records:
        out.record(n, record)
        written += 1
    return written


def deferred(entry_id: str, line: str) -> Iterator[tuple[str, str, str, str]]:
    """(key, entry id, kind, payload) as the ``.gen`` lines give them, of a ``.doc`` line whose
    record is not filed under its group (an SLTD entry keyed otherwise, a person)."""
    kind, _, rest = line.rstrip("\n").partition("\t")
    if kind == "S":
        key, _, hexed = rest.partition("\t")
        yield key, entry_id, "S", hexed
    elif kind == "N":
        hexed, _, keys = rest.partition("\t")
        yield "", entry_id, "N", hexed
        for key in filter(None, keys.split(",")):
            yield key, entry_id, "P", ""


def _general(write: Callable[[str], int], n: int, record: EntryRecord) -> None:
    """kinds: S an SLTD entry, N a person (its packed record), P a person's document, C a
    cancelled entry."""
    seq = f"{10**_SEQ_WIDTH - n:0{_SEQ_WIDTH + 1}d}"
    entry_id = record.entry_id
    if isinstance(record, Cancelled):
        write(f"{entry_id}\t{seq}\t\tC\t\n")
    elif isinstance(record, SltdRecord):
        packed = marshal.dumps(pack_sltd(record), _VERSION).hex()
        write(f"{entry_id}\t{seq}\t{record.key or ''}\tS\t{packed}\n")
    else:
        packed_person, keys = _person(record)
        write(f"{entry_id}\t{seq}\t\tN\t{packed_person}\n")
        for key in keys:
            write(f"{entry_id}\t{seq}\t{key}\tP\t\n")


def _person(record: PersonRecord) -> tuple[str, list[str]]:
    """(the packed person as hex, its document keys, sorted)."""
    keys, single = person_keys(record)
    packed = pack_person(record, sorted(keys), single).hex()
    documents = {document_key(d.issuing_state, d.number) for d in record.documents}
    return packed, sorted(k for k in documents if k is not None)
