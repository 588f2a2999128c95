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
    window: timedelta = timedelta(hours=1)
    first: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # key -> (alert, at)

    def decide(self, key: str, alert_id: str, at: datetime) -> NoticeKind:
        """ALERT for the first hit (and for the same alert routed again), UPDATE afterwards."""
        seen = self.first.get(key)
        if seen is None or at - seen[1] > self.window:
            self.first[key] = (alert_id, at)
            return NoticeKind.ALERT
        return NoticeKind.ALERT if seen[0] == alert_id else NoticeKind.UPDATE

    def remember(self, key: str, alert_id: str, at: datetime) -> None:
        """Rebuild from stored state: keep the earliest first page of each key."""
        seen = self.first.get(key)
        if seen is None or at < seen[1]:
            self.first[key] = (alert_id, at)

    def prune(self, now: datetime) -> None:
        stale = [k for k, (_, at) in self.first.items() if now - at > self.window]
        for key in stale:
            del self.first[key]
