"""Ingest's exceptions, in the shared vocabulary of ``services.common.errors``."""

from __future__ import annotations

from services.common.errors import PermanentError, TransientError


class AgenciesFileError(PermanentError):
    """The agencies file cannot be read or does not describe agencies."""


class Unavailable(TransientError):
    """The broker did not acknowledge in time, or too much is already in flight."""


class RawRecordRejected(PermanentError):
    """A record on ingest.raw that can never become a canonical event."""
