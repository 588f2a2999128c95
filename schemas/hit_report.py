"""Hit reports (topic ``hit_reports``, key = the alert's ``entry_id``): what the country of
the hit did.

A contact point answers an alert with an outcome code and a comment; the notifier writes the
answer as a hit report and delivers it to the issuing country's contact points, as SIRENE's
"hit reply" and INTERPOL's hit notification do. The report carries the traveller identity as
the event gave it, so the issuer learns who was met and a ``false_match`` can be suppressed
for that identity alone.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, StrictStr, model_validator
from pydantic_core import PydanticCustomError

from schemas.alert import AlertKind
from schemas.common import CountryCode, Model, Timestamp, uuid5_hex
from schemas.event import EventId, Location, TravelDocument, Traveller
from schemas.topics import TopicName
from schemas.watchlist import Dissemination, EntryId, ListKind

SCHEMA_VERSION = "hit_report/1"
HIT_REPORTS_TOPIC: TopicName = "hit_reports"

# Fixed namespace: report ids must be the same on every machine and in every release.
_REPORT_NAMESPACE = uuid.UUID("9d2a4f6e-3b1c-4e8a-b7d5-0f6c2a9e1d47").bytes


class OutcomeCode(StrEnum):
    """What was done about a hit. Person hits take the person codes, document hits the
    document codes (``codes_for``)."""

    ARRESTED = "arrested"
    LOCATED = "located"
    PROTECTED = "protected"  # a minor or victim brought to safety
    REFUSED_ENTRY = "refused_entry"
    ALLOWED_UNDER_WATCH = "allowed_under_watch"
    NOT_FOUND = "not_found"
    FALSE_MATCH = "false_match"  # not the listed person
    DOCUMENT_SEIZED = "document_seized"
    DOCUMENT_NOT_PRESENTED = "document_not_presented"


PERSON_OUTCOMES: tuple[OutcomeCode, ...] = (
    OutcomeCode.ARRESTED,
    OutcomeCode.LOCATED,
    OutcomeCode.PROTECTED,
    OutcomeCode.REFUSED_ENTRY,
    OutcomeCode.ALLOWED_UNDER_WATCH,
    OutcomeCode.NOT_FOUND,
    OutcomeCode.FALSE_MATCH,
)
DOCUMENT_OUTCOMES: tuple[OutcomeCode, ...] = (
    OutcomeCode.DOCUMENT_SEIZED,
    OutcomeCode.DOCUMENT_NOT_PRESENTED,
)


def codes_for(kind: str) -> tuple[OutcomeCode, ...]:
    """The outcome codes an alert of this kind (``AlertKind``) may be answered with."""
    return DOCUMENT_OUTCOMES if kind == AlertKind.DOCUMENT else PERSON_OUTCOMES


def report_id_for(alert_id: str, outcome: str) -> str:
    """One report per (alert, outcome): the same answer given twice is one report; a changed
    outcome (a supervisor correcting an officer) is a new one."""
    return "r-" + uuid5_hex(_REPORT_NAMESPACE, f"{alert_id}\x1f{outcome}")


def report_key(entry_id: str) -> bytes:
    """The record key on ``hit_reports``: the alert's (``alert.alert_key``), so one alert's
    reports keep their order and reach the notifier replica that owns the alert."""
    return entry_id.encode()


Comment = Annotated[StrictStr, Field(max_length=4000)]
Actor = Annotated[StrictStr, Field(min_length=1, max_length=200)]


class HitReport(Model):
    report_id: Annotated[StrictStr, Field(pattern=r"^r-[0-9a-f]{32}$")]
    alert_id: Annotated[StrictStr, Field(pattern=r"^a-[0-9a-f]{32}$")]
    event_id: EventId
    entry_id: EntryId
    list: Annotated[ListKind, Field(strict=False)]
    kind: Annotated[AlertKind, Field(strict=False)]
    issuer: CountryCode  # the entry's country: who the report is for
    country: CountryCode  # the country of the hit, which reports
    outcome: Annotated[OutcomeCode, Field(strict=False)]
    comment: Comment | None = None
    answered_by: Actor  # the audit actor, e.g. "KAZ-NCB/kaz.duty1"
    answered_by_role: Annotated[StrictStr, Field(min_length=1, max_length=50)]
    contact_point: Actor  # the reporting country's contact point that answered
    at: Timestamp  # when the outcome was given
    occurred_at: Timestamp  # when the hit happened (the event's time)
    location: Location | None = None
    # Who was met, as the event said (the traveller identity of a false-match suppression).
    traveller: Traveller | None = None
    event_document: TravelDocument | None = None
    # The entry's restriction: the report reaches only these countries (and the issuer).
    dissemination: Dissemination | None = None

    @model_validator(mode="after")
    def _outcome_fits_kind(self) -> Self:
        allowed = codes_for(self.kind)
        if self.outcome not in allowed:
            raise PydanticCustomError(
                "outcome_kind",
                "outcome: {outcome!r} does not answer a {kind} hit (one of: {allowed})",
                {
                    "outcome": self.outcome.value,
                    "kind": self.kind.value,
                    "allowed": ", ".join(allowed),
                },
            )
        return self

    def may_disseminate_to(self, country: str) -> bool:
        if self.dissemination is None:
            return True
        return country == self.issuer or country in self.dissemination.restricted_to
