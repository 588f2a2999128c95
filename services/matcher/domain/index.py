"""In-memory watchlist index: blocking keys on name skeletons and on document numbers.

Name candidates come from a vocabulary of token skeletons (``vocabulary``: a one-deletion
neighbourhood, a sound key and the masculine form of feminine surnames), so one edit, a vowel
spelt differently or -ova/-ov still find their entry; an entry is a candidate only when two of
its name tokens are reached (or its only one), so the work per event does not grow with the
watchlist. Documents are found by issuing state + normalised number: one dict from that key to
its holder (a bare record; a tuple only when several entries list one document).

With a ``DocumentStore`` (the disk-backed store of ``services.matcher.docstore``) documents and
SLTD entries live there instead, and person entries stay in memory: the store files a person's
documents under its entry id, which the index resolves to the person it holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import compress
from typing import NamedTuple, Protocol

from services.matcher.domain.documents import document_key
from services.matcher.domain.names import (
    GIVEN,
    PATRONYMIC,
    SURNAME,
    Token,
    split_roles,
    tokenise,
)
from services.matcher.domain.records import (
    Cancelled,
    DocumentRef,
    EntryRecord,
    NameForm,
    PersonRecord,
    SltdRecord,
)
from services.matcher.domain.transliterate import masculine
from services.matcher.domain.variants import groups as name_groups
from services.matcher.domain.vocabulary import Vocabulary

DocumentHolder = PersonRecord | SltdRecord


class DocumentStore(Protocol):
    """Documents and SLTD entries kept outside the process (the screener does no I/O itself:
    the store is passed in). Writes happen inside the store's own write batch."""

    def holders(self, key: str) -> tuple[SltdRecord | str, ...]:
        """The holders filed under a document key: SLTD records, and person entry ids."""

    def put_sltd(self, record: SltdRecord) -> None: ...

    def remove_sltd(self, entry_id: str) -> bool: ...

    def has_sltd(self, entry_id: str) -> bool: ...

    def put_person(self, record: PersonRecord, keys: Sequence[str], single: bool) -> None: ...

    def remove_person(self, record: PersonRecord) -> None: ...

    def sltd_count(self) -> int: ...


class FiledPeople(NamedTuple):
    """People a store kept, column by column (one row per person): a restart files them
    without a Python call per person."""

    entry_ids: Sequence[str]
    keys: Sequence[bytes]  # each person's blocking keys (``person_keys``), newline-separated
    singles: Sequence[bool]
    packed: Sequence[bytes]  # each record as the store packed it (``restore``'s ``decode``)


def name_tokens(form: NameForm) -> tuple[Token, ...]:
    return (
        tokenise(form.surname, SURNAME)
        + tokenise(form.given_names, GIVEN)
        + tokenise(form.patronymic, PATRONYMIC)
    )


def _blocking_keys(token: Token) -> set[str]:
    keys = {*token.keys, token.latin, *name_groups().words(token.keys)}
    for key in token.keys:
        male = masculine(key)
        if male is not None:
            keys.add(male)
    return keys


def person_keys(record: PersonRecord) -> tuple[set[str], bool]:
    """A person's blocking keys, and whether one of its names has a single core token (that
    token alone then makes it a candidate)."""
    keys: set[str] = set()
    single = False
    for form in record.names:
        core, _ = split_roles(name_tokens(form))
        single = single or len(core) == 1
        for token in core:
            keys |= _blocking_keys(token)
    return keys, single


class WatchlistIndex:
    """Every active watchlist entry, kept current with ``upsert`` and ``remove``."""

    def __init__(self, store: DocumentStore | None = None) -> None:
        self._store = store
        self._slots: dict[str, int] = {}
        # a person restored from the store stays packed until first reached (``_person``)
        self._people: list[PersonRecord | bytes | None] = []
        self._decode: Callable[[bytes], PersonRecord] | None = None
        self._free: list[int] = []
        self._vocabulary = Vocabulary()
        self._sltd: dict[str, SltdRecord] = {}
        # one holder stored bare: a million one-element tuples would cost ~50 MB
        self._documents: dict[str, DocumentHolder | tuple[DocumentHolder, ...]] = {}

    def use_store(self, store: DocumentStore | None) -> DocumentStore | None:
        """Read documents from ``store`` from now on (the same store opened again: a forked
        worker must not use its parent's LMDB environment); returns the one before."""
        previous, self._store = self._store, store
        return previous

    def __len__(self) -> int:
        sltd = self._store.sltd_count() if self._store is not None else len(self._sltd)
        return len(self._slots) + sltd

    @property
    def people(self) -> int:
        return len(self._slots)

    def __contains__(self, entry_id: object) -> bool:
        if entry_id in self._slots or entry_id in self._sltd:
            return True
        return (
            self._store is not None and isinstance(entry_id, str) and self._store.has_sltd(entry_id)
        )

    def upsert(self, record: EntryRecord) -> None:
        """Add or replace an entry; a ``Cancelled`` record removes it."""
        self.remove(record.entry_id)
        if isinstance(record, Cancelled):
            return
        store = self._store
        if store is not None:
            if isinstance(record, SltdRecord):
                store.put_sltd(record)
            else:
                keys, single = person_keys(record)
                self._add_person(record, keys, single)
                store.put_person(record, sorted(keys), single)
            return
        if isinstance(record, SltdRecord):
            self._sltd[record.entry_id] = record
            key = record.key
            if key is not None and key not in self._documents:  # the common case, kept cheap
                self._documents[key] = record
            else:
                self._link_documents(record, (record.document,), add=True)
            return
        self._add_person(record, *person_keys(record))
        self._link_documents(record, record.documents, add=True)

    def restore(
        self, people: Iterable[FiledPeople], decode: Callable[[bytes], PersonRecord]
    ) -> None:
        """File the people a store kept into an empty index, a batch at a time: the keys go
        to the vocabulary in one native call per batch, each record is decoded when a
        screening first reaches it."""
        if self._people:
            raise ValueError("restore fills an empty index")
        self._decode = decode
        for batch in people:
            count = len(batch.entry_ids)
            if not len(batch.keys) == len(batch.singles) == len(batch.packed) == count:
                raise ValueError("the columns of a batch of people differ in length")
            slots = range(len(self._people), len(self._people) + count)
            self._people.extend(batch.packed)
            self._slots.update(zip(batch.entry_ids, slots, strict=True))
            for slot in compress(slots, batch.singles):
                self._vocabulary.set_single(slot, True)
            self._vocabulary.add_bulk(batch.keys, slots)

    def _person(self, slot: int) -> PersonRecord | None:
        found = self._people[slot]
        if isinstance(found, bytes):
            assert self._decode is not None  # only ``restore`` files packed people
            found = self._people[slot] = self._decode(found)
        return found

    def remove(self, entry_id: str) -> None:
        """Forget an entry (cancelled or tombstoned); unknown ids are ignored."""
        if self._store is not None and entry_id not in self._slots:
            self._store.remove_sltd(entry_id)
            return
        sltd = self._sltd.pop(entry_id, None)
        if sltd is not None:
            self._link_documents(sltd, (sltd.document,), add=False)
            return
        slot = self._slots.pop(entry_id, None)
        if slot is None:
            return
        record = self._person(slot)
        self._people[slot] = None
        self._free.append(slot)
        self._vocabulary.set_single(slot, False)
        if record is not None:
            if self._store is not None:
                self._store.remove_person(record)
            else:
                self._link_documents(record, record.documents, add=False)
            for key in person_keys(record)[0]:
                self._vocabulary.discard(key, slot)

    def _add_person(
        self,
        record: PersonRecord | bytes,
        keys: Iterable[str],
        single: bool,
        entry_id: str | None = None,
    ) -> None:
        slot = self._free.pop() if self._free else len(self._people)
        if slot == len(self._people):
            self._people.append(record)
        else:
            self._people[slot] = record
        name = record.entry_id if isinstance(record, PersonRecord) else entry_id
        assert name is not None  # a packed person comes with its entry id
        self._slots[name] = slot
        if single:
            self._vocabulary.set_single(slot, True)
        self._vocabulary.add_bulk((keys,), (slot,))

    def _link_documents(
        self, record: DocumentHolder, documents: Iterable[DocumentRef], add: bool
    ) -> None:
        keys = {document_key(d.issuing_state, d.number) for d in documents}
        for key in keys:
            if key is None:
                continue
            others = tuple(h for h in self._holders(key) if h.entry_id != record.entry_id)
            holders = (*others, record) if add else others
            if not holders:
                self._documents.pop(key, None)
            else:
                self._documents[key] = holders[0] if len(holders) == 1 else holders

    def _holders(self, key: str) -> tuple[DocumentHolder, ...]:
        found = self._documents.get(key)
        if found is None:
            return ()
        return found if isinstance(found, tuple) else (found,)

    def by_document(self, document: DocumentRef | None) -> tuple[DocumentHolder, ...]:
        """Entries listing this document (same issuing state, same normalised number)."""
        if document is None:
            return ()
        key = document_key(document.issuing_state, document.number)
        if key is None:
            return ()
        if self._store is None:
            return self._holders(key)
        return tuple(self._resolve(h) for h in self._store.holders(key) if self._known(h))

    def _known(self, holder: SltdRecord | str) -> bool:
        return not isinstance(holder, str) or holder in self._slots

    def _resolve(self, holder: SltdRecord | str) -> DocumentHolder:
        if isinstance(holder, str):
            person = self._person(self._slots[holder])
            assert person is not None  # a slot in use holds its person
            return person
        return holder

    def prepare(self, tokens: Iterable[Token]) -> None:
        """Look up many events' name tokens at once before ``candidates`` asks for each."""
        self._vocabulary.prepare(tokens)

    def candidates(self, tokens: tuple[Token, ...]) -> list[PersonRecord]:
        """People reached by two of the event's name tokens, or by its only one."""
        reached = [self._vocabulary.reached(token) for token in tokens]
        found = self._vocabulary.candidates(reached)
        if self._decode is None:  # nothing packed: the plain loop
            people = self._people
            return [p for p in (people[slot] for slot in found) if isinstance(p, PersonRecord)]
        return [person for person in map(self._person, found) if person is not None]
