"""Redaction of record values for ``relay tail`` and ``relay dlq show``.

Builds on the logging redaction (``services.common.logging``): the same personal-data keys and
MRZ pattern. Records add one thing logs do not have: alert explanations, whose ``event`` and
``entry`` values are the compared names, dates and numbers themselves. A value that is not JSON
cannot be inspected by key, so it is withheld entirely (its length is shown).
"""

from __future__ import annotations

import json
from typing import Any

from services.common.logging import PII_KEYS, REDACTED, redact_pii

# Inside an explanation item these carry the compared personal values.
EXPLANATION_VALUES = frozenset({"event", "entry"})


def redact_value(value: Any) -> Any:
    """A copy of a decoded JSON value with personal data replaced by ``[redacted]``.

    Unlike the log processor, an object under a personal-data key (``traveller``, ``document``)
    is walked rather than hidden whole, so operators still see country, type and expiry.
    """
    if isinstance(value, dict):
        is_item = "field" in value and "how" in value
        return {k: _field(k, v, hide=is_item and k in EXPLANATION_VALUES) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, str):
        text: str = redact_pii(None, "", {"text": value})["text"]  # MRZ lines anywhere
        return text
    return value


def _field(key: str, value: Any, *, hide: bool) -> Any:
    if isinstance(value, dict) and not hide:
        return redact_value(value)
    if hide or (key in PII_KEYS and value is not None):
        return REDACTED
    return redact_value(value)


def render_value(raw: bytes | None, *, show_pii: bool) -> Any:
    """What to print for a record value: parsed JSON (redacted), or a placeholder."""
    if raw is None:
        return None  # a tombstone
    try:
        decoded = json.loads(raw)
    except ValueError:
        if show_pii:
            return raw.decode(errors="replace")
        return f"[{len(raw)} bytes, not JSON: withheld]"
    return decoded if show_pii else redact_value(decoded)


def render_text(text: str, *, show_pii: bool) -> str:
    """Free text (a key, a header): MRZ lines removed unless personal data is wanted."""
    if show_pii:
        return text
    redacted: str = redact_value(text)
    return redacted
