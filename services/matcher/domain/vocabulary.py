"""The name vocabulary of the watchlist: skeleton -> entry slots, with fuzzy lookup.

A token reaches the vocabulary words that name the same token (see ``names``): the same
skeleton, its masculine form, one edit, or two edits that only change vowels or like-sounding
letters. The words it may reach (its pool) are a one-deletion neighbourhood (SymSpell) of
each reading and the words sharing the sound key of a reading of 6+ letters.

The neighbourhood is small and checked by the rules (``_verified``). The sound buckets are
large (hundreds of words), so they are never checked word by word: a word that only a sound
bucket brings in can be accepted by two rules alone (see ``_sound_part``), and each has an
index of its own: its consonants (``_consonants``), or its sound key among words of 6+
letters (``_sounds``), scanned in one rapidfuzz call.

Memory: most neighbourhood keys and most skeletons name one word or one entry, so a bucket
holds a bare value until it has two (an empty ``set`` alone costs 216 bytes; there are
millions of these keys for 10^5 people).
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Iterator
from typing import TypeVar

import numpy
from rapidfuzz import process
from rapidfuzz.distance import OSA

from services.matcher.domain.names import Token, keys_similarity, two_edits, typed_one_edit
from services.matcher.domain.transliterate import consonants, masculine, sound_key

_MIN_FUZZY_LENGTH = 4
_MIN_EDIT_LENGTH = 5  # as in names: one edit in a 4-letter name makes another name
_MIN_SOUND_LENGTH = 6  # short keys share huge sound buckets
_CACHE_SIZE = 50_000  # tokens, per cache
_SMALL_POOL = 48  # (reading, word) pairs measured one by one below this

V = TypeVar("V", bound=Hashable)


def bucket_add(table: dict[str, V | set[V]], key: str, value: V) -> bool:
    """Add ``value`` under ``key``; True when the key is new."""
    current = table.get(key)
    if current is None:
        table[key] = value
        return True
    if isinstance(current, set):
        current.add(value)
    elif current != value:
        table[key] = {current, value}
    return False


def bucket_discard(table: dict[str, V | set[V]], key: str, value: V) -> bool:
    """Remove ``value`` from under ``key``; True when the key is gone."""
    current = table.get(key)
    if current is None:
        return False
    if isinstance(current, set):
        current.discard(value)
        if len(current) == 1:
            table[key] = next(iter(current))
        return False
    if current == value:
        del table[key]
        return True
    return False


def _deletions(key: str) -> Iterator[str]:
    for position in range(len(key)):
        yield key[:position] + key[position + 1 :]


def _members(bucket: str | set[str] | None) -> Collection[str]:
    if bucket is None:
        return ()
    return (bucket,) if isinstance(bucket, str) else bucket


def _collect(into: set[str], bucket: str | set[str] | None) -> None:
    if bucket is None:
        return
    if isinstance(bucket, str):
        into.add(bucket)
    else:
        into |= bucket


class Vocabulary:
    """Skeleton -> entry slots, with fuzzy lookup of skeletons one edit or a vowel away."""

    def __init__(self) -> None:
        self.postings: dict[str, int | set[int]] = {}
        self._deleted: dict[str, str | set[str]] = {}
        self._consonants: dict[str, str | set[str]] = {}  # words of 4+ letters
        self._sounds: dict[str, str | set[str]] = {}  # words of 6+ letters only
        self._reach_cache: dict[tuple[tuple[str, ...], str], frozenset[str]] = {}
        self._slots_cache: dict[tuple[tuple[str, ...], str], tuple[int, ...]] = {}

    def add(self, key: str, slot: int) -> None:
        self._slots_cache.clear()  # any change of postings
        if bucket_add(self.postings, key, slot):
            self._link(key, add=True)

    def discard(self, key: str, slot: int) -> None:
        self._slots_cache.clear()
        if bucket_discard(self.postings, key, slot):
            self._link(key, add=False)

    def _link(self, key: str, add: bool) -> None:
        self._reach_cache.clear()  # a word came or went
        if len(key) < _MIN_FUZZY_LENGTH:
            return
        change = bucket_add if add else bucket_discard
        for deleted in _deletions(key):
            change(self._deleted, deleted, key)
        change(self._consonants, consonants(key), key)
        if len(key) >= _MIN_SOUND_LENGTH:
            change(self._sounds, sound_key(key), key)

    def slots(self, token: Token) -> tuple[int, ...]:
        """Entry slots of every vocabulary word the token reaches.

        Event tokens repeat, so both answers are cached, and bounded: the words until a word
        comes or goes, the slots (a tuple: a tenth of a set's memory) until any entry changes.
        """
        cache_key = (token.keys, token.latin)
        cached = self._slots_cache.get(cache_key)
        if cached is None:
            if len(self._slots_cache) >= _CACHE_SIZE:
                self._slots_cache.clear()
            cached = tuple(self._slots(self.reach(token)))
            self._slots_cache[cache_key] = cached
        return cached

    def reach(self, token: Token) -> frozenset[str]:
        """Vocabulary words that name the same token."""
        cache_key = (token.keys, token.latin)
        cached = self._reach_cache.get(cache_key)
        if cached is None:
            if len(self._reach_cache) >= _CACHE_SIZE:
                self._reach_cache.clear()
            cached = frozenset(self._reach(token))
            self._reach_cache[cache_key] = cached
        return cached

    def _slots(self, words: Iterable[str]) -> set[int]:
        postings = self.postings
        out: set[int] = set()
        bare: list[int] = []
        for word in words:
            bucket = postings[word]
            if isinstance(bucket, int):
                bare.append(bucket)
            else:
                out |= bucket
        out.update(bare)
        return out

    def _reach(self, token: Token) -> set[str]:
        postings = self.postings
        found = {
            word
            for key in (*token.keys, token.latin)
            for word in (key, masculine(key))
            if word is not None and word in postings and _near(token, word)
        }
        pool_keys = [key for key in {*token.keys, token.latin} if len(key) >= _MIN_FUZZY_LENGTH]
        pool: set[str] = set()
        for key in pool_keys:
            _collect(pool, self._deleted.get(key))
            for deleted in _deletions(key):
                _collect(pool, self._deleted.get(deleted))
                if deleted in postings:
                    pool.add(deleted)
        sounds = {sound_key(key) for key in pool_keys if len(key) >= _MIN_SOUND_LENGTH}
        if sounds:  # first: it accepts many neighbours too, sparing their check below
            found |= self._sound_part(token, sounds)
        pool -= found
        if pool:
            found |= _verified(token, pool)
        return found

    def _sound_part(self, token: Token, sounds: set[str]) -> set[str]:
        """The words of the pool's sound buckets that the rules accept.

        Every word returned is a pool word that ``_near`` accepts; some are one-deletion
        neighbours as well, which ``_verified`` then need not check.

        A word outside the one-deletion neighbourhood of every reading and of the typed letters
        is more than one edit from each, so ``_accepts`` takes it only for a reading, at most
        two edits away, as a feminine form (``masculine`` maps it onto the reading: the same
        consonants) or as ``two_edits`` accept it: the same consonants, or 6+ letters both and
        the same sound key. Either way it shares the reading's sound key, and it is in the pool
        when that key is one of ``sounds``.
        """
        found: set[str] = set()
        for key in token.keys:
            sound = sound_key(key)
            if sound not in sounds or len(key) < _MIN_FUZZY_LENGTH:
                continue  # a shorter reading is only ever the same word (_edit_lengths)
            short = len(key) < _MIN_EDIT_LENGTH  # then the word must be the longer one
            found.update(
                word
                for word in _members(self._consonants.get(consonants(key)))
                if (not short or len(word) >= _MIN_EDIT_LENGTH)
                and OSA.distance(key, word, score_cutoff=2) <= 2
            )
            if len(key) >= _MIN_SOUND_LENGTH:
                bucket = _members(self._sounds.get(sound))
                close = process.extract(
                    key, bucket, scorer=OSA.distance, score_cutoff=2, limit=None
                )
                found.update(word for word, _, _ in close)
        return found


def _near(token: Token, word: str) -> bool:
    if word == token.latin or typed_one_edit(token.latin, word):
        return True
    return keys_similarity(token.keys, (word,), True)[0] > 0


def _verified(token: Token, pool: set[str]) -> set[str]:
    """The pool words ``_near`` accepts.

    Every rule of ``_near`` needs a distance of at most 1 on the letters as typed or at most
    2 on a skeleton (a masculine form is within 2 as well), so rapidfuzz measures every
    (reading, word) distance in one C call and Python looks only at the close pairs.
    """
    queries = (token.latin, *token.keys)
    out: set[str] = set()
    for row, word, distance in _close_pairs(queries, list(pool)):
        if word not in out and _accepts(queries[row], word, distance, row == 0):
            out.add(word)
    return out


def _close_pairs(queries: tuple[str, ...], choices: list[str]) -> Iterator[tuple[int, str, int]]:
    """(query row, word, distance) for every pair within 2 edits (1 for the typed letters)."""
    if len(queries) * len(choices) <= _SMALL_POOL:  # cdist's set-up costs more than it saves
        for row, query in enumerate(queries):
            limit = 1 if row == 0 else 2
            for word in choices:
                distance = OSA.distance(query, word, score_cutoff=limit)
                if distance <= limit:
                    yield row, word, distance
        return
    matrix = process.cdist(
        queries, choices, scorer=OSA.distance, score_cutoff=2, dtype=numpy.int8, workers=1
    )
    matrix[0][matrix[0] == 2] = 3  # the letters as typed allow one edit only
    rows, columns = numpy.nonzero(matrix <= 2)
    for row, column, distance in zip(
        rows.tolist(), columns.tolist(), matrix[rows, columns].tolist(), strict=True
    ):
        yield row, choices[column], distance


def _accepts(query: str, word: str, distance: int, typed: bool) -> bool:
    """``typed_one_edit`` (letters as typed) or ``keys_similarity > 0`` (a reading)."""
    if distance == 0:
        return True
    if not typed and (masculine(query) == word or masculine(word) == query):
        return True
    if not _edit_lengths(query, word):
        return False
    return distance == 1 or (not typed and two_edits(query, word)[0] > 0)


def _edit_lengths(a: str, b: str) -> bool:
    return max(len(a), len(b)) >= _MIN_EDIT_LENGTH and min(len(a), len(b)) >= _MIN_FUZZY_LENGTH
