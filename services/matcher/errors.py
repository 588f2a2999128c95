"""Matcher errors: an event that cannot be screened goes to ``events.dlq``."""

from __future__ import annotations

from services.common.errors import PermanentError


class UnreadableEvent(PermanentError):
    """The record is not a valid canonical event."""


class UnreadableEntry(PermanentError):
    """The record is not a valid watchlist entry."""
