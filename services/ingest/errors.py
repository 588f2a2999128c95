"""Ingest's exceptions, in the shared vocabulary of ``services.common.errors``."""

from __future__ import annotations

from services.common.errors import PermanentError


class AgenciesFileError(PermanentError):
    """The agencies file cannot be read or does not describe agencies."""


class RawRecordRejected(PermanentError):
    """A record on ingest.raw that can never become a canonical event."""
