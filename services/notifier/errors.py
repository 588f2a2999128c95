"""The notifier's exceptions."""

from __future__ import annotations

from services.common.errors import PermanentError, TransientError


class DirectoryError(PermanentError):
    """The contact-point directory file cannot be read or is invalid."""


class ArchiveUnavailable(TransientError):
    """The deliveries topic could not be read back (the broker is away): the record that
    needed it may succeed later, so its fate is a retry."""


class AnswerNotStoredError(Exception):
    """An acknowledgement was taken but not stored in time (the broker is away): the API asks
    the contact point to send it again (503), which is harmless."""

    retry_after_s = 5


class AuditNotStoredError(Exception):
    """A read of personal data could not be audited (the broker is away): nothing is shown,
    and the caller is asked to try again (503)."""

    retry_after_s = 5


class AccountsError(PermanentError):
    """The console accounts file cannot be read or is invalid."""


class UnreadableReport(PermanentError):
    """A record on ``hit_reports`` that is not a hit report."""


class TopicLayoutError(Exception):
    """The topics replicas share are not partitioned alike: the notifier refuses to start."""
