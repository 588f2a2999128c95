"""Analyst errors. A record the analysis cannot read is skipped, not dead-lettered: ingest and
the matcher dead-letter bad events, the notifier bad alerts, where they first meet them."""

from __future__ import annotations

from services.common.errors import DropError


class UnreadableRecord(DropError):
    """The record is neither a canonical event nor a watchlist hit."""
