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

from rapidfuzz import process
from rapidfuzz.distance import OSA

from services.matcher.domain.names import Token, keys_similarity, typed_one_edit
from services.matcher.domain.transliterate import consonants, masculine, sound_key

_MIN_FUZZY_LENGTH = 4
_MIN_EDIT_LENGTH = 5  # as in names: one edit in a 4-letter name makes another name
_MIN_SOUND_LENGTH = 6  # short keys share huge sound buckets
_CACHE_SIZE = 50_000  # tokens, per cache
_SET_FROM = 64  # slots of one token: a tuple below, a frozenset from here

Slots = tuple[int, ...] | frozenset[int]

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


class Vocabulary:
    """Skeleton -> entry slots, with fuzzy lookup of skeletons one edit or a vowel away."""

    def __init__(self) -> None:
        self.postings: dict[str, int | set[int]] = {}
        self._deleted: dict[str, str | set[str]] = {}
        self._consonants: dict[str, str | set[str]] = {}  # words of 4+ letters
        self._sounds: dict[str, str | set[str]] = {}  # words of 6+ letters only
        # The same buckets as rows of fresh strings side by side in memory, made when first
        # scanned: rapidfuzz reads every word of a row, and the vocabulary's own strings lie
        # scattered over a heap of a million records (a row scans three times faster).
        self._consonant_rows: dict[str, tuple[str, ...]] = {}
        self._sound_rows: dict[str, tuple[str, ...]] = {}
        self._reach_cache: dict[tuple[tuple[str, ...], str], frozenset[str]] = {}
        self._slots_cache: dict[tuple[tuple[str, ...], str], Slots] = {}

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
        skeleton = consonants(key)
        change(self._consonants, skeleton, key)
        self._consonant_rows.pop(skeleton, None)
        if len(key) >= _MIN_SOUND_LENGTH:
            sound = sound_key(key)
            change(self._sounds, sound, key)
            self._sound_rows.pop(sound, None)

    def slots(self, token: Token) -> Slots:
        """Entry slots of every vocabulary word the token reaches.

        Event tokens repeat, so both answers are cached, and bounded: the words until a word
        comes or goes, the slots until any entry changes. Few slots are kept as a tuple (a
        tenth of a set's memory); many (a common given name) as a frozenset, which a
        surname's few slots then probe instead of walking it (``common_slots``).
        """
        cache_key = (token.keys, token.latin)
        cached = self._slots_cache.get(cache_key)
        if cached is None:
            if len(self._slots_cache) >= _CACHE_SIZE:
                self._slots_cache.clear()
            found = self._slots(self.reach(token))
            cached = frozenset(found) if len(found) >= _SET_FROM else tuple(found)
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
        bare: list[int] = []
        shared: list[set[int]] = []
        for bucket in map(self.postings.__getitem__, words):
            if isinstance(bucket, int):
                bare.append(bucket)
            else:
                shared.append(bucket)
        return set(bare).union(*shared)  # one C call merges the shared buckets

    def _reach(self, token: Token) -> set[str]:
        found = _direct(token, self.postings)
        queries = [key for key in {*token.keys, token.latin} if len(key) >= _MIN_FUZZY_LENGTH]
        pool = self._pool(queries)
        sounds = {sound_key(key) for key in queries if len(key) >= _MIN_SOUND_LENGTH}
        if sounds:  # first: it accepts many neighbours too, sparing their check below
            found |= self._sound_part(token, sounds)
        pool -= found
        if pool:
            found |= _verified(token, pool)
        return found

    def _pool(self, queries: list[str]) -> set[str]:
        """The one-deletion neighbourhood of the queries: words that are one of their
        deletions, whose deletion one of them is, or that share a deletion with one.

        A query itself may come in as well: it is then a word the direct part has found.
        """
        probes: set[str] = set()
        for key in queries:
            probes.add(key)
            probes.update([key[:position] + key[position + 1 :] for position in range(len(key))])
        pool = self.postings.keys() & probes  # walks the probes, not the vocabulary
        for bucket in map(self._deleted.get, probes):
            if bucket is None:
                continue
            if isinstance(bucket, str):
                pool.add(bucket)
            else:
                pool |= bucket
        return pool

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
            if len(key) < _MIN_FUZZY_LENGTH:
                continue  # a shorter reading is only ever the same word (_edit_lengths)
            sound = sound_key(key)
            if sound not in sounds:
                continue
            words: Collection[str] = _row(self._consonant_rows, self._consonants, consonants(key))
            if len(key) < _MIN_EDIT_LENGTH:  # then the word must be the longer one
                words = [word for word in words if len(word) >= _MIN_EDIT_LENGTH]
            found.update(_within_two(key, words))
            if len(key) >= _MIN_SOUND_LENGTH:
                found.update(_within_two(key, _row(self._sound_rows, self._sounds, sound)))
        return found


def common_slots(first: Slots, second: Slots) -> Collection[int]:
    """The slots in both, at the cost of the smaller: a frozenset is probed, never walked."""
    small, large = (first, second) if len(first) <= len(second) else (second, first)
    if isinstance(large, frozenset):
        return large.intersection(small)
    return set(small).intersection(large)


def _row(
    rows: dict[str, tuple[str, ...]], table: dict[str, str | set[str]], key: str
) -> tuple[str, ...]:
    """The bucket ``table[key]`` as a row of fresh strings (kept in ``rows``)."""
    row = rows.get(key)
    if row is None:
        words = _members(table.get(key))
        if not words:
            return ()  # not kept: any key may be asked for
        # one string split up: the copies are made one after the other, side by side
        row = tuple(" ".join(words).split(" "))
        if len(row) != len(words):  # a word with a space (none of ours): keep the words
            row = tuple(words)
        rows[key] = row
    return row


def _within_two(key: str, words: Collection[str]) -> Iterator[str]:
    """The words at most two edits from ``key`` (one C call for more than one word)."""
    if len(words) == 1:
        yield from (word for word in words if OSA.distance(key, word, score_cutoff=2) <= 2)
    elif words:
        for word, _, _ in process.extract(
            key, words, scorer=OSA.distance, score_cutoff=2, limit=None
        ):
            yield word


def _direct(token: Token, postings: Collection[str]) -> set[str]:
    """The vocabulary words among the token's readings, its typed letters and their
    masculine forms that ``_near`` accepts: all but the masculine form of the typed letters
    are accepted by definition (the same letters, the same reading, or its gender form)."""
    found = {word for word in (*token.keys, token.latin) if word in postings}
    for key in token.keys:
        male = masculine(key)
        if male is not None and male in postings:
            found.add(male)
    male = masculine(token.latin)
    if male is not None and male not in found and male in postings and _near(token, male):
        found.add(male)
    return found


def _near(token: Token, word: str) -> bool:
    if word == token.latin or typed_one_edit(token.latin, word):
        return True
    return keys_similarity(token.keys, (word,), True)[0] > 0


def _verified(token: Token, pool: set[str]) -> set[str]:
    """The pool words ``_near`` accepts.

    Every rule of ``_near`` needs a distance of at most 1 on the letters as typed or at most
    2 on a skeleton (a masculine form is within 2 as well), so rapidfuzz measures the
    distances of each reading to the whole pool in one C call and Python looks only at the
    close pairs.
    """
    choices = list(pool)
    out: set[str] = set()
    rows = [(key, False) for key in token.keys]
    if token.latin not in token.keys:  # else that reading accepts all the typed letters would
        rows.insert(0, (token.latin, True))
    for query, typed in rows:
        for word, distance, _ in process.extract(
            query, choices, scorer=OSA.distance, score_cutoff=1 if typed else 2, limit=None
        ):
            if word not in out and _accepts(query, word, distance, typed):
                out.add(word)
    return out


def _accepts(query: str, word: str, distance: int, typed: bool) -> bool:
    """``typed_one_edit`` (letters as typed) or ``keys_similarity > 0`` (a reading)."""
    shorter, longer = sorted((len(query), len(word)))
    lengths = longer >= _MIN_EDIT_LENGTH and shorter >= _MIN_FUZZY_LENGTH  # _edit_lengths
    if distance == 0 or (distance == 1 and lengths):  # first: no gender form to work out
        return True
    if typed:
        return False
    if masculine(query) == word or masculine(word) == query:
        return True
    if not lengths or distance == 1:
        return False
    # two_edits: vowels alone differ, or 6+ letters both and like-sounding letters
    if consonants(query) == consonants(word):
        return True
    return shorter >= _MIN_SOUND_LENGTH and sound_key(query) == sound_key(word)
