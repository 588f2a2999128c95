"""The notifier's exceptions."""

from __future__ import annotations

from services.common.errors import PermanentError


class DirectoryError(PermanentError):
    """The contact-point directory file cannot be read or is invalid."""


class NotAllowedError(PermanentError):
    """A send would reach a country outside the alert's dissemination list."""
