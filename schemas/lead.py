"""Leads for analysts (topic ``leads``, key = ``lead_id``): a pattern across several events.

A lead is not an alert: nobody is paged. The same pattern over the same subjects is one lead,
updated as evidence grows, so its id is derived from the pattern and its subjects.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StrictInt, StrictStr

from schemas.common import (
    CountryCode,
    DocumentNumber,
    Model,
    NameText,
    NoControlChars,
    PartialDate,
    Score,
    Sex,
    Timestamp,
    uuid5_hex,
)
from schemas.event import EventId
from schemas.topics import TopicName
from schemas.watchlist import Dissemination, EntryId

SCHEMA_VERSION = "lead/1"
LEADS_TOPIC: TopicName = "leads"
MAX_EVIDENCE = 50

# Fixed namespace: lead ids must be the same on every machine and in every release.
_LEAD_NAMESPACE = uuid.UUID("0c5f3e2a-7d41-4b8e-9a6c-2e1d4f7b8a93").bytes


class Pattern(StrEnum):
    SERIAL_ESCORT = "serial_escort"
    ASSOCIATE_OF_LISTED = "associate_of_listed"
    DOCUMENT_MANY_IDENTITIES = "document_many_identities"
    IDENTITY_MANY_DOCUMENTS = "identity_many_documents"
    MINOR_REPEATED_CROSSINGS = "minor_repeated_crossings"
    FLOW_SURGE = "flow_surge"


def lead_id_for(pattern: str, subject_keys: Iterable[str]) -> str:
    """``"l-" + uuid5(namespace, pattern + sorted subject keys).hex``: one id per pattern and
    set of subjects, whatever order the subjects were met in."""
    name = "\x1f".join([pattern, *sorted(subject_keys)])
    return "l-" + uuid5_hex(_LEAD_NAMESPACE, name)


def lead_key(lead_id: str) -> bytes:
    """The record key on ``leads``: every update of one lead lands on one partition, in order."""
    return lead_id.encode()


Text = Annotated[StrictStr, Field(min_length=1, max_length=2000), NoControlChars]
Short = Annotated[StrictStr, Field(min_length=1, max_length=100), NoControlChars]


class SubjectPerson(Model):
    """Who the events say the subject is (as one event wrote it)."""

    surname: NameText
    given_names: NameText | None = None
    date_of_birth: PartialDate | None = None
    sex: Sex | None = None
    nationality: CountryCode | None = None


class SubjectDocument(Model):
    number: DocumentNumber
    issuing_state: CountryCode | None = None


class Subject(Model):
    role: Annotated[
        Short,
        Field(description="What the subject is in the pattern: escort, minor, associate, "
              "listed, person, document."),
    ]  # fmt: skip
    traveller: SubjectPerson | None = None
    document: SubjectDocument | None = None
    entry_id: EntryId | None = None  # the watchlist entry of a listed subject


class EvidenceItem(Model):
    """One event of the pattern. The optional fields place it on the analyst's link chart:
    whose event it was, and the document, party and transport it shows them with."""

    event_id: EventId
    why: Text
    occurred_at: Timestamp | None = None
    subject: Annotated[StrictInt, Field(ge=0, lt=50)] | None = None  # index into ``subjects``
    document: SubjectDocument | None = None  # as presented at this event
    party: Short | None = None  # one party: the event's ``party.id``, or a stable label
    transport: Short | None = None  # mode, number and day: "air KC931 2026-11-22"
    country: CountryCode | None = None  # where it was reported


class Aggregate(Model):
    """flow_surge's cell and statistic: counts only, no person."""

    country: CountryCode  # where the crossings were reported
    destination: CountryCode | None = None
    sex: Sex | None = None
    age_band: Short
    week_start: Annotated[StrictStr, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    count: Annotated[StrictInt, Field(ge=0)]
    baseline_median: Annotated[float, Field(ge=0)]
    baseline_mad: Annotated[float, Field(ge=0)]
    statistic: Annotated[float, Field(description="Robust z: (count - median) / (1.4826 MAD).")]


class Lead(Model):
    lead_id: Annotated[StrictStr, Field(pattern=r"^l-[0-9a-f]{32}$")]
    pattern: Annotated[Pattern, Field(strict=False)]
    score: Score
    created_at: Timestamp
    updated_at: Timestamp | None = None
    country: CountryCode
    subjects: Annotated[list[Subject], Field(max_length=50)]
    evidence: Annotated[list[EvidenceItem], Field(min_length=1, max_length=MAX_EVIDENCE)]
    summary: Text
    aggregate: Aggregate | None = None
    # A lead involving a restricted watchlist entry inherits its restriction.
    dissemination: Dissemination | None = None
