"""The audit records of watchlist changes made with ``relay watchlist``: one per load (the
file, its format and fingerprint, what was stored) and one per entry cancelled, by a load
(an entry with status cancelled, or ``--as-cancelled``) or by ``relay watchlist cancel``.

Written after the entries were stored, by the operator (``services.common.audit.operator``),
and waited for: a load whose audit cannot be stored says so (exit 1), it does not pass as
done and unrecorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from schemas.notification import AuditAction, AuditRecord
from schemas.watchlist import EntryStatus, WatchlistEntry
from services.common.audit import audit_record, operator
from services.common.settings import CommonSettings

CHUNK = 1 << 20


def fingerprint(path: Path) -> str:
    """sha256 of the file, so the trail names exactly what was loaded."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def load_records(
    settings: CommonSettings, path: Path, fmt: str, entries: Sequence[WatchlistEntry], stored: int
) -> list[AuditRecord]:
    cancelled = [e.entry_id for e in entries if e.status is EntryStatus.CANCELLED]
    return counted_load_records(settings, path, fmt, (len(entries), stored), cancelled)


def counted_load_records(
    settings: CommonSettings,
    path: Path,
    fmt: str,
    counts: tuple[int, int],
    cancelled: Sequence[str],
) -> list[AuditRecord]:
    """``load_records`` of a feed parsed in chunks: (entries, stored) and the cancelled ids."""
    actor, where = operator(settings)
    entries, stored = counts
    loaded = audit_record(
        AuditAction.WATCHLIST_LOADED, actor, file=str(path.resolve()), format=fmt,
        sha256=fingerprint(path), entries=entries, published=stored,
        cancelled=len(cancelled), **where,
    )  # fmt: skip
    return [loaded, *cancellation_records(settings, cancelled, "load")]


def cancellation_records(
    settings: CommonSettings, entry_ids: Sequence[str], how: str
) -> list[AuditRecord]:
    actor, where = operator(settings)
    return [
        audit_record(AuditAction.ENTRY_CANCELLED, actor, entry_id=entry_id, by=how, **where)
        for entry_id in entry_ids
    ]
