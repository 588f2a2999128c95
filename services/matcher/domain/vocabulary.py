"""The name vocabulary of the watchlist: skeleton -> entry slots, with fuzzy lookup.

A token reaches the vocabulary words that name the same token (see ``names``): the same
skeleton, its masculine form, one edit, or two edits that only change vowels or like-sounding
letters. The words it may reach (its pool) are a one-deletion neighbourhood (SymSpell) of
each reading and the words of each reading's consonant and sound buckets.

Every rule that accepts a pool word needs a distance of at most 1 on the letters as typed, or
at most 2 on a skeleton (a masculine form is within 2 as well). A word outside the
one-deletion neighbourhood of every reading and of the typed letters is more than one edit
from each, so it is accepted only for a reading at most two edits away: as a feminine form
(the same consonants) or as two edits of vowels alone (the same consonants) or of
like-sounding letters (both long enough, the same sound key). Either way it lies in the
reading's consonant bucket or sound bucket, which are scanned whole.

The lookup itself is native code (``services/matcher/native``, module ``relay_vocabulary``):
a name never seen before costs a neighbourhood of about twenty probes and the scan of buckets
of hundreds of words over millions of keys, which in Python is mostly waiting for memory. A
token's reach stays native too (``SlotSet``): as Python sets of ints its slots cost more to build
and to intersect than the lookup itself (``make bench-matcher`` measures both).
It applies ``transliterate``'s ``consonants``, ``sound_key`` and ``masculine`` and the pair
rules of ``names`` (``typed_one_edit``, ``keys_similarity``) for pairs at most two edits
apart, with the constants Python passes in (``name_rules.NAME_RULES``); the unit tests
compare its answers with the Python rules over every word of the vocabulary
(test_vocabulary_pool.py). Python passes words the token reaches only exactly:
the masculine form of the letters as typed (``_near`` compares whole readings) and the
token's known-variant groups (``variants``: a group is a word without letters, never near
a name).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from relay_vocabulary import Core, SlotSet

from services.matcher.domain.name_rules import NAME_RULES
from services.matcher.domain.names import Token, keys_similarity, typed_one_edit
from services.matcher.domain.transliterate import masculine
from services.matcher.domain.variants import groups as name_groups

_CACHE_SIZE = 50_000  # tokens
# The compiled module (its package only re-exports it): what it decides (skeletons, the
# lookup) is part of what stored keys and snapshots were made by.
NATIVE_FILE = Path(importlib.import_module("relay_vocabulary.relay_vocabulary").__file__ or "")


class Vocabulary:
    """Skeleton -> entry slots, with fuzzy lookup of skeletons one edit or a vowel away."""

    def __init__(self) -> None:
        self._core = Core(NAME_RULES)
        self._slots_cache: dict[tuple[tuple[str, ...], str], SlotSet] = {}

    def __len__(self) -> int:
        return len(self._core)

    def __contains__(self, word: str) -> bool:
        return word in self._core

    def add(self, key: str, slot: int) -> None:
        self._slots_cache.clear()  # any change of postings
        self._core.add(key, slot)

    def add_bulk(self, keys: Iterable[bytes | Iterable[str]], slots: Sequence[int]) -> None:
        """``add`` of every key of ``keys[i]`` (strings, or bytes with a newline between keys)
        under ``slots[i]``, in one native call: a store's million people are filed at start
        without a Python call per key."""
        self._slots_cache.clear()
        self._core.add_bulk(keys, slots)

    def discard(self, key: str, slot: int) -> None:
        self._slots_cache.clear()
        self._core.discard(key, slot)

    def words(self) -> list[str]:
        return self._core.words()

    def postings(self, word: str) -> list[int]:
        """The slots under one word (none when it is not a word)."""
        return self._core.postings(word)

    def reached(self, token: Token) -> SlotSet:
        """The words the token reaches, for ``candidates``.

        Event tokens repeat, so the answer is cached until any entry changes (a set made
        before a change is refused by the native core, never read against new postings).
        """
        cache_key = (token.keys, token.latin)
        cached = self._slots_cache.get(cache_key)
        if cached is None:
            self.prepare((token,))
            cached = self._slots_cache[cache_key]
        return cached

    def slots(self, token: Token) -> list[int]:
        """Entry slots of every vocabulary word the token reaches, sorted."""
        return self._core.slot_list(self.reached(token))

    def prepare(self, tokens: Iterable[Token]) -> None:
        """Look up the slots of every token not cached, in one native call: a chunk of
        events at once keeps the vocabulary's memory in the CPU caches between its names."""
        cache = self._slots_cache
        keyed = {(t.keys, t.latin): t for t in tokens}
        if len(cache) + len(keyed) > _CACHE_SIZE:
            cache.clear()  # before picking the new ones: all of these stay cached
        new = {key: token for key, token in keyed.items() if key not in cache}
        if not new:
            return
        asked = [(t.keys, t.latin, self._exact(t)) for t in new.values()]
        cache.update(zip(new, self._core.slots_many(asked), strict=True))

    def set_single(self, slot: int, single: bool) -> None:
        """Mark a slot whose name has one token: that token alone makes it a candidate."""
        self._core.set_single(slot, single)

    def candidates(self, reached: list[SlotSet]) -> list[int]:
        """Slots two of the tokens reach together, or one alone where marked single."""
        return self._core.candidates(reached)

    def reach(self, token: Token) -> frozenset[str]:
        """Vocabulary words that name the same token."""
        return frozenset(self._core.reach(token.keys, token.latin, self._exact(token)))

    def _exact(self, token: Token) -> list[str]:
        """Words the token reaches only as they are: its known-variant groups and the
        masculine form of its letters as typed."""
        male = self._masculine_typed(token)
        return name_groups().words(token.keys) + ([male] if male else [])

    def _masculine_typed(self, token: Token) -> str | None:
        """The masculine form of the letters as typed, when it is a word the rules accept."""
        male = masculine(token.latin)
        if male is None or male in token.keys or male not in self._core:
            return None
        return male if _near(token, male) else None


def _near(token: Token, word: str) -> bool:
    if word == token.latin or typed_one_edit(token.latin, word):
        return True
    return keys_similarity(token.keys, (word,), True)[0] > 0
