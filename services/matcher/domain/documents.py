"""Travel-document numbers as compared: issuing state + number, separators and case ignored."""

from __future__ import annotations

import re

# Cyrillic capitals that look like Latin ones; a series typed on a Cyrillic keyboard is the
# same document (АА1234567 is AA1234567).
_LOOKALIKES = str.maketrans("АВСЕНКМОРТХУ", "ABCEHKMOPTXY")
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


def normalise_number(number: str) -> str:
    """Upper case, Cyrillic look-alikes as Latin, without spaces, dashes, dots or slashes."""
    return _NOT_ALNUM.sub("", number.upper().translate(_LOOKALIKES))


def document_key(issuing_state: str | None, number: str | None) -> str | None:
    """The index key of a document, or None when it cannot identify one."""
    if not number:
        return None
    normalised = normalise_number(number)
    if not normalised:
        return None
    return f"{(issuing_state or '').upper()}:{normalised}"
