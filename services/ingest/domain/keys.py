"""Partition keys: one traveller's events share a key, so they stay in order on one partition.

The key is a digest, not the document number or the name itself: keys are shown by every
Kafka tool and kept in broker logs, and personal data has no business there.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from schemas.common import normalise_document_number
from schemas.event import Event, EventType
from schemas.topics import TopicName

TOPIC_BY_TYPE: dict[EventType, TopicName] = {
    EventType.BORDER_CROSSING: "events.border_crossing",
    EventType.DOCUMENT_CHECK: "events.document_check",
}
_NOT_ALNUM_ASCII = re.compile(r"[^a-z0-9]")


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest().encode("ascii")


def fold_name(text: str | None) -> str:
    """Case-, accent- and spacing-insensitive form of a name (any script)."""
    if not text:
        return ""
    if text.isascii():  # the common case, without a Unicode decomposition
        return _NOT_ALNUM_ASCII.sub("", text.lower())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalnum())


def traveller_key(event: Event) -> bytes:
    """Document (issuing state + normalised number) when there is one, else name + birth date.

    A document identifies a traveller far better than a name, and it is what border systems
    read; events without a document fall back to the folded name and date of birth.
    """
    if event.document is not None:
        number = normalise_document_number(event.document.number)
        return _digest(f"doc\x1f{event.document.issuing_state}\x1f{number}")
    person = event.traveller
    name = f"{fold_name(person.surname)}\x1f{fold_name(person.given_names)}"
    return _digest(f"person\x1f{name}\x1f{person.date_of_birth or ''}")


def topic_for(event: Event) -> TopicName:
    """The catalogue name of the canonical topic for this event's type."""
    return TOPIC_BY_TYPE[event.type]
