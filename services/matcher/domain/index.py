"""In-memory watchlist index: blocking keys on name skeletons and on document numbers.

Name candidates come from a vocabulary of token skeletons (``vocabulary``: a one-deletion
neighbourhood, a sound key and the masculine form of feminine surnames), so one edit, a vowel
spelt differently or -ova/-ov still find their entry; an entry is a candidate only when two of
its name tokens are reached (or its only one), so the work per event does not grow with the
watchlist. Documents are found by issuing state + normalised number: one dict from that key to
its holder (a bare record; a tuple only when several entries list one document).
"""

from __future__ import annotations

from collections.abc import Iterable

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


class WatchlistIndex:
    """Every active watchlist entry, kept current with ``upsert`` and ``remove``."""

    def __init__(self) -> None:
        self._slots: dict[str, int] = {}
        self._people: list[PersonRecord | None] = []
        self._free: list[int] = []
        self._vocabulary = Vocabulary()
        self._sltd: dict[str, SltdRecord] = {}
        # one holder stored bare: a million one-element tuples would cost ~50 MB
        self._documents: dict[str, DocumentHolder | tuple[DocumentHolder, ...]] = {}

    def __len__(self) -> int:
        return len(self._slots) + len(self._sltd)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._slots or entry_id in self._sltd

    def upsert(self, record: EntryRecord) -> None:
        """Add or replace an entry; a ``Cancelled`` record removes it."""
        self.remove(record.entry_id)
        if isinstance(record, Cancelled):
            return
        if isinstance(record, SltdRecord):
            self._sltd[record.entry_id] = record
            key = record.key
            if key is not None and key not in self._documents:  # the common case, kept cheap
                self._documents[key] = record
            else:
                self._link_documents(record, (record.document,), add=True)
            return
        self._add_person(record)
        self._link_documents(record, record.documents, add=True)

    def remove(self, entry_id: str) -> None:
        """Forget an entry (cancelled or tombstoned); unknown ids are ignored."""
        sltd = self._sltd.pop(entry_id, None)
        if sltd is not None:
            self._link_documents(sltd, (sltd.document,), add=False)
            return
        slot = self._slots.pop(entry_id, None)
        if slot is None:
            return
        record = self._people[slot]
        self._people[slot] = None
        self._free.append(slot)
        self._vocabulary.set_single(slot, False)
        if record is not None:
            self._link_documents(record, record.documents, add=False)
            for key in self._person_keys(record):
                self._vocabulary.discard(key, slot)

    def _add_person(self, record: PersonRecord) -> None:
        slot = self._free.pop() if self._free else len(self._people)
        if slot == len(self._people):
            self._people.append(record)
        else:
            self._people[slot] = record
        self._slots[record.entry_id] = slot
        if any(len(split_roles(name_tokens(form))[0]) == 1 for form in record.names):
            self._vocabulary.set_single(slot, True)
        for key in self._person_keys(record):
            self._vocabulary.add(key, slot)

    @staticmethod
    def _person_keys(record: PersonRecord) -> set[str]:
        keys: set[str] = set()
        for form in record.names:
            core, _ = split_roles(name_tokens(form))
            for token in core:
                keys |= _blocking_keys(token)
        return keys

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
        return self._holders(key) if key is not None else ()

    def prepare(self, tokens: Iterable[Token]) -> None:
        """Look up many events' name tokens at once before ``candidates`` asks for each."""
        self._vocabulary.prepare(tokens)

    def candidates(self, tokens: tuple[Token, ...]) -> list[PersonRecord]:
        """People reached by two of the event's name tokens, or by its only one."""
        reached = [self._vocabulary.slots(token) for token in tokens]
        people = self._people
        found = self._vocabulary.candidates(reached)
        return [person for person in (people[slot] for slot in found) if person is not None]
