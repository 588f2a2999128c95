"""The error vocabulary every service shares; the fate wrapper turns each into an outcome.

- ``PermanentError``: this record can never succeed as it is (invalid, forbidden, unknown
  version) -> dead letter with the reason and field in headers.
- ``TransientError``: might succeed later (broker or peer unavailable) -> retry.
- ``DropError``: deliberately not processed (duplicate, expired) -> audited drop.
"""

from __future__ import annotations


class RelayError(Exception):
    """Base of every deliberate error in notice-relay."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class PermanentError(RelayError):
    """The record is broken or not allowed; retrying cannot help."""


class TransientError(RelayError):
    """A dependency failed; the same record may succeed later."""


class DropError(RelayError):
    """The record is deliberately skipped; the drop is logged for audit."""
