"""What ingest answers for each event: the ``outcome`` of its HTTP answers, also the label of
its event counters. (A contact point's answers to an alert are ``schemas.notification.AckKind``.)
"""

from __future__ import annotations

from enum import StrEnum


class IngestOutcome(StrEnum):
    ACCEPTED = "accepted"  # stored now
    DUPLICATE = "duplicate"  # this event_id was stored recently: not sent again
    REJECTED = "rejected"  # invalid (422)
    FORBIDDEN = "forbidden"  # the agency may not send it (403)
    UNAVAILABLE = "unavailable"  # not stored (503): send it again
