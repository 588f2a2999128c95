"""In-memory watchlist index: blocking keys on name skeletons and on document numbers.

Name candidates come from a vocabulary of token skeletons with a one-deletion neighbourhood
(SymSpell), a vowel-free key and the masculine form of feminine surnames, so one edit, a vowel
spelt differently or -ova/-ov still find their entry; an entry is a candidate only when two of
its name tokens are reached (or its only one), so the work per event does not grow with the
watchlist. Documents are found by issuing state + normalised number.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import combinations

from rapidfuzz import process
from rapidfuzz.distance import OSA

from services.matcher.domain.documents import document_key
from services.matcher.domain.names import (
    GIVEN,
    PATRONYMIC,
    SURNAME,
    Token,
    keys_similarity,
    split_roles,
    tokenise,
    typed_one_edit,
)
from services.matcher.domain.records import (
    Cancelled,
    DocumentRef,
    EntryRecord,
    NameForm,
    PersonRecord,
    SltdRecord,
)
from services.matcher.domain.transliterate import masculine, sound_key

DocumentHolder = PersonRecord | SltdRecord
_MIN_FUZZY_LENGTH = 4
_VERIFY_IN_C = 16
_MIN_SOUND_LENGTH = 6


def name_tokens(form: NameForm) -> tuple[Token, ...]:
    return (
        tokenise(form.surname, SURNAME)
        + tokenise(form.given_names, GIVEN)
        + tokenise(form.patronymic, PATRONYMIC)
    )


def _deletions(key: str) -> Iterator[str]:
    for position in range(len(key)):
        yield key[:position] + key[position + 1 :]


def _blocking_keys(token: Token) -> set[str]:
    keys = {*token.keys, token.latin}
    for key in token.keys:
        male = masculine(key)
        if male is not None:
            keys.add(male)
    return keys


class _Vocabulary:
    """Skeleton -> entry slots, with fuzzy lookup of skeletons one edit or a vowel away."""

    def __init__(self) -> None:
        self.postings: dict[str, set[int]] = {}
        self._deleted: dict[str, set[str]] = {}
        self._sounds: dict[str, set[str]] = {}
        self._reach_cache: dict[tuple[tuple[str, ...], str], frozenset[str]] = {}

    def add(self, key: str, slot: int) -> None:
        slots = self.postings.get(key)
        if slots is None:
            self.postings[key] = {slot}
            self._link(key, add=True)
        else:
            slots.add(slot)

    def discard(self, key: str, slot: int) -> None:
        slots = self.postings.get(key)
        if slots is None:
            return
        slots.discard(slot)
        if not slots:
            del self.postings[key]
            self._link(key, add=False)

    def _link(self, key: str, add: bool) -> None:
        self._reach_cache.clear()
        if len(key) < _MIN_FUZZY_LENGTH:
            return
        for table, derived in ((self._deleted, _deletions(key)), (self._sounds, [sound_key(key)])):
            for item in derived:
                words = table.setdefault(item, set())
                if add:
                    words.add(key)
                else:
                    words.discard(key)
                    if not words:
                        del table[item]

    def reach(self, token: Token) -> frozenset[str]:
        """Vocabulary words that name the same token (cached until the vocabulary changes)."""
        cache_key = (token.keys, token.latin)
        cached = self._reach_cache.get(cache_key)
        if cached is None:
            cached = frozenset(self._reach(token))
            self._reach_cache[cache_key] = cached
        return cached

    def _reach(self, token: Token) -> Iterable[str]:
        found: set[str] = set()
        for key in (*token.keys, token.latin):
            male = masculine(key)
            found.update(k for k in (key, male) if k is not None and k in self.postings)
        # fuzzy neighbours of every reading and of the letters as typed
        for key in {*token.keys, token.latin}:
            if len(key) < _MIN_FUZZY_LENGTH:
                continue
            found.update(self._deleted.get(key, ()))
            if len(key) >= _MIN_SOUND_LENGTH:  # short keys share huge sound buckets
                found.update(self._sounds.get(sound_key(key), ()))
            for deleted in _deletions(key):
                found.update(self._deleted.get(deleted, ()))
                if deleted in self.postings:
                    found.add(deleted)
        if len(found) > _VERIFY_IN_C:  # a big bucket: let rapidfuzz drop the far words first
            close: set[str] = set()
            for query, limit in ((token.latin, 1), *((key, 2) for key in token.keys)):
                hits = process.extract(
                    query, found, scorer=OSA.distance, score_cutoff=limit, limit=None
                )
                close.update(hit[0] for hit in hits)
            found = close
        return (word for word in found if _near(token, word))


def _near(token: Token, word: str) -> bool:
    if word == token.latin or typed_one_edit(token.latin, word):
        return True
    return keys_similarity(token.keys, (word,), True)[0] > 0


class WatchlistIndex:
    """Every active watchlist entry, kept current with ``upsert`` and ``remove``."""

    def __init__(self) -> None:
        self._slots: dict[str, int] = {}
        self._people: list[PersonRecord | None] = []
        self._free: list[int] = []
        self._single_token: set[int] = set()
        self._vocabulary = _Vocabulary()
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
            key = document_key(record.document.issuing_state, record.document.number)
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
        self._single_token.discard(slot)
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
            self._single_token.add(slot)
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

    def candidates(self, tokens: tuple[Token, ...]) -> list[PersonRecord]:
        """People reached by two of the event's name tokens, or by its only one."""
        reached = [self._entries_for(token) for token in tokens]
        found: set[int] = set()
        for first, second in combinations(reached, 2):
            found |= first & second
        for slots in reached:
            found |= slots & self._single_token
        people = (self._people[slot] for slot in found)
        return [person for person in people if person is not None]

    def _entries_for(self, token: Token) -> set[int]:
        postings = self._vocabulary.postings
        out: set[int] = set()
        for word in self._vocabulary.reach(token):
            out |= postings[word]
        return out
