"""State keys: a keyed HMAC of what identifies a document, a party or a person.

The history holds data of people on no list; its keys never carry a document number or a
name in clear, and without the key they cannot be recomputed from a guess.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache


class Pseudonymiser:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the pseudonymisation key must be at least 16 bytes")
        # the key's state, set up once: each pseudonym copies it rather than hashing the key
        # again (hmac.digest does that on every call, most of its cost for short values)
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)
        # name blocks repeat on every sighting of a common name: compute each once
        self._cached = lru_cache(maxsize=100_000)(self._compute)
        # a party's or a flight's members arrive together: their key, for a little while
        self._recent = lru_cache(maxsize=4_096)(self._compute)

    def __call__(self, *parts: str) -> str:
        """For values that come back (name blocks): remembered."""
        return self._cached("\x1f".join(parts))

    def once(self, *parts: str) -> str:
        """For values met about once (a document): not remembered, so that they do not push
        the name blocks out of the cache."""
        return self._compute("\x1f".join(parts))

    def recurring(self, *parts: str) -> str:
        """For values that come back soon after, then never (a party, a trip): remembered in
        a small cache of their own."""
        return self._recent("\x1f".join(parts))

    def _compute(self, message: str) -> str:
        mac = self._keyed.copy()
        mac.update(message.encode())
        return mac.digest()[:16].hex()
