"""The notifier's exceptions."""

from __future__ import annotations

from services.common.errors import PermanentError


class DirectoryError(PermanentError):
    """The contact-point directory file cannot be read or is invalid."""


class NotAllowedError(PermanentError):
    """A send would reach a country outside the alert's dissemination list."""


class AnswerNotStoredError(Exception):
    """An acknowledgement was taken but not stored in time (the broker is away): the API asks
    the contact point to send it again (503), which is harmless."""

    retry_after_s = 5
