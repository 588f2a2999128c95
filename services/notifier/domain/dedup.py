"""De-duplication: the same person hitting the same entry again within a window pages once.

The key is a hash of the entry and the traveller's document (or name and birth date), so the
window itself holds no personal data.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from schemas.alert import Alert
from schemas.common import normalise_document_number
from schemas.notification import NoticeKind


def _fold(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold().strip()


def dedup_key(alert: Alert) -> str:
    doc = alert.event_document
    if doc is not None:
        person = f"doc\x1f{doc.issuing_state}\x1f{normalise_document_number(doc.number)}"
    elif alert.traveller is not None:
        t = alert.traveller
        person = "name\x1f" + "\x1f".join(
            _fold(x) for x in (t.surname, t.given_names, t.date_of_birth)
        )
    else:
        person = f"event\x1f{alert.event_id}"  # nothing to recognise the person by
    return hashlib.sha256(f"{alert.entry_id}\x1f{person}".encode()).hexdigest()[:32]


@dataclass
class DedupWindow:
    """First page per key within the window. Compact on purpose (it holds every key of the last
    window): the key as its 16 bytes, the time as epoch seconds; ``prune`` expires old ones."""

    window: timedelta = timedelta(hours=1)
    first: dict[bytes, tuple[str, float]] = field(default_factory=dict)  # key -> (alert, at)

    def decide(self, key: str, alert_id: str, at: datetime) -> NoticeKind:
        """ALERT for the first hit (and for the same alert routed again), UPDATE afterwards."""
        digest, ts = _digest(key), at.timestamp()
        seen = self.first.get(digest)
        if seen is None or ts - seen[1] > self.window.total_seconds():
            self.first[digest] = (alert_id, ts)
            return NoticeKind.ALERT
        return NoticeKind.ALERT if seen[0] == alert_id else NoticeKind.UPDATE

    def remember(self, key: str, alert_id: str, at: datetime) -> None:
        """Rebuild from stored state: keep the earliest first page of each key."""
        digest, ts = _digest(key), at.timestamp()
        seen = self.first.get(digest)
        if seen is None or ts < seen[1]:
            self.first[digest] = (alert_id, ts)

    def prune(self, now: datetime) -> int:
        """Forget keys older than the window; returns how many."""
        oldest = now.timestamp() - self.window.total_seconds()
        stale = [k for k, (_, ts) in self.first.items() if ts < oldest]
        for key in stale:
            del self.first[key]
        return len(stale)


def _digest(key: str) -> bytes:
    try:
        return bytes.fromhex(key)
    except ValueError:  # not one of ours (hand-written record): hash it the same way
        return hashlib.sha256(key.encode()).digest()[:16]
