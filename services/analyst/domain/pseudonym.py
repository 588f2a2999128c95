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
        self._key = key
        # name blocks repeat on every sighting of a common name: compute each once
        self._cached = lru_cache(maxsize=100_000)(self._compute)

    def __call__(self, *parts: str) -> str:
        """For values that come back (name blocks): remembered."""
        return self._cached("\x1f".join(parts))

    def once(self, *parts: str) -> str:
        """For values met about once (a document, a party, a trip): not remembered, so that
        they do not push the name blocks out of the cache."""
        return self._compute("\x1f".join(parts))

    def _compute(self, message: str) -> str:
        return hmac.digest(self._key, message.encode(), hashlib.sha256)[:16].hex()
