"""Screening hits (topic ``alerts``, key = ``entry_id``: one entry's alerts keep their order)."""

from __future__ import annotations

import builtins
import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StrictStr

from schemas.common import CountryCode, Model, Score, Timestamp, uuid5_hex
from schemas.event import EventId, EventType, Location, TravelDocument, Traveller
from schemas.topics import TopicName
from schemas.watchlist import (
    Action,
    Dissemination,
    EntryId,
    ListKind,
    PersonRecord,
    SltdDocument,
)

SCHEMA_VERSION = "alert/1"

# Fixed namespace: alert ids must be the same on every machine and in every release.
_ALERT_NAMESPACE = uuid.UUID("5b7e6a53-9a55-4c1e-8f43-6f0f2b0a7c11")
_NAMESPACE_BYTES = _ALERT_NAMESPACE.bytes


def alert_id_for(event_id: str, entry_id: str) -> str:
    """The alert id of (event, entry): processing an event twice yields the same alert.
    ``"a-" + uuid.uuid5(_ALERT_NAMESPACE, name).hex``."""
    return "a-" + uuid5_hex(_NAMESPACE_BYTES, f"{event_id}\x1f{entry_id}")


def alert_key(entry_id: str) -> bytes:
    """The record key of an alert on ``alerts``: its entry id. One entry's alerts then share a
    partition, so the notifier meets them in one order, and again in that order after a crash:
    its de-duplication (the first alert of a person and entry pages, later ones update) decides
    the same way on a replay, and a page sent before the crash goes out, and is audited, under
    the same id. Keyed by alert id, two partitions could replay them the other way round."""
    return entry_id.encode()


class AlertKind(StrEnum):
    PERSON = "person"
    DOCUMENT = "document"


class Band(StrEnum):
    STRONG = "strong"  # act now
    POSSIBLE = "possible"  # needs a human look


class Urgency(StrEnum):
    URGENT = "urgent"
    NORMAL = "normal"
    LOW = "low"


# Strong hits on these lists page at once, whatever else the alert says.
URGENT_LISTS = frozenset({ListKind.RED_NOTICE, ListKind.DIFFUSION})
# Topic names (catalogue names, before the prefix). Urgent alerts are written to both: ``alerts``
# stays the record of every alert, and ``alerts.urgent`` is read by a consumer of its own, so
# a backlog of routine alerts never stands between an urgent one and the notifier.
ALERTS_TOPIC: TopicName = "alerts"
URGENT_ALERTS_TOPIC: TopicName = "alerts.urgent"


def pages(band: str, urgency: str, list_kind: str, minor: bool | None) -> bool:
    """Urgent = act now: the matcher's verdict, or a strong hit that must page anyway (red
    notices, diffusions, yellow notices of minors). A possible match never pages: it needs a
    human look first."""
    if band != Band.STRONG:
        return False
    if urgency == Urgency.URGENT or list_kind in URGENT_LISTS:
        return True
    return list_kind == ListKind.YELLOW_NOTICE and bool(minor)


def alert_topics(urgent: bool) -> tuple[TopicName, ...]:
    """The topics an alert is written to (catalogue names)."""
    return (ALERTS_TOPIC, URGENT_ALERTS_TOPIC) if urgent else (ALERTS_TOPIC,)


class How(StrEnum):
    """How one field compares (``ExplanationItem.how``): the explanation's vocabulary, which the
    notifier turns into a duty officer's words (services/notifier/domain/words.py). The field
    stays free text on the wire, so a newer matcher's code never makes an alert unreadable."""

    EXACT = "exact"
    SAME = "same"
    TRANSLITERATION = "transliteration"
    SPELLING_VARIANT = "spelling_variant"
    KNOWN_VARIANT = "known_variant"  # recorded as one name (Wikidata name groups)
    ONE_EDIT = "one_edit"
    SOUNDS_ALIKE = "sounds_alike"
    TWO_EDITS = "two_edits"
    GENDER_FORM = "gender_form"
    SWAPPED_ORDER = "swapped_order"
    PARTIAL_DATE = "partial_date"
    PLACEHOLDER_DATE = "placeholder_date"
    DAY_MONTH_SWAPPED = "day_month_swapped"
    ONE_DIGIT_DIFFERENT = "one_digit_different"
    SAME_YEAR_MONTH = "same_year_month"
    SAME_YEAR = "same_year"
    DIFFERENT = "different"
    CONTRADICTS = "contradicts"
    UNKNOWN = "unknown"
    ONLY_IN_EVENT = "only_in_event"
    SAME_NUMBER = "same_number"
    SAME_NUMBER_OTHER_FORMAT = "same_number_other_format"
    # field MRZ_FIELD: the name compared is the MRZ's (it differs from the typed one) ...
    NAME_FROM_MRZ = "name_from_mrz"
    # ... and the MRZ's check digits do not add up (``event`` names the failed ones)
    CHECK_DIGIT_FAILED = "check_digit_failed"


# Explanation field of what the event's machine-readable zone itself says.
MRZ_FIELD = "mrz"


class ExplanationItem(Model):
    """One field's comparison, in words a duty officer understands."""

    field: Annotated[
        StrictStr,
        Field(
            min_length=1,
            max_length=100,
            description=f"The field compared (surname, date_of_birth, ...), or {MRZ_FIELD!r}: "
            "what the document's machine-readable zone itself says.",
        ),
    ]
    event: Annotated[StrictStr, Field(max_length=500)] | None = None
    entry: Annotated[StrictStr, Field(max_length=500)] | None = None
    how: Annotated[
        StrictStr,
        Field(
            min_length=1,
            max_length=200,
            description="How the two sides compare: " + ", ".join(How) + ".",
        ),
    ]
    score: Score


Text = Annotated[StrictStr, Field(max_length=2000)]

# An alert carries the listed side of the hit (``entry_person``), bounded so that an entry with
# many names or documents still makes a small alert; what is left out is counted in
# ``entry_omitted``, and the whole entry stays on ``watchlist.entries``.
MAX_ENTRY_NAMES = 10
MAX_ENTRY_DOCUMENTS = 10


class EntryOmitted(Model):
    """What the alert's ``entry_person`` leaves out of the entry, counted."""

    names: Annotated[int, Field(ge=0)] = 0
    documents: Annotated[int, Field(ge=0)] = 0


class Alert(Model):
    alert_id: Annotated[StrictStr, Field(pattern=r"^a-[0-9a-f]{32}$")]
    event_id: EventId
    entry_id: EntryId
    list: Annotated[ListKind, Field(strict=False)]
    kind: Annotated[AlertKind, Field(strict=False)]
    band: Annotated[Band, Field(strict=False)]
    score: Score
    action: Annotated[Action, Field(strict=False)]
    urgency: Annotated[Urgency, Field(strict=False)]
    country: CountryCode
    issuer: CountryCode
    occurred_at: Timestamp
    explanation: Annotated[builtins.list[ExplanationItem], Field(min_length=1, max_length=50)]
    created_at: Timestamp
    # Optional context for routing and for the contact point's screen.
    dissemination: Dissemination | None = None
    retro: bool = False  # raised by retro-screening a past event against a new entry
    subject_minor: bool | None = None
    event_type: Annotated[EventType, Field(strict=False)] | None = None
    location: Location | None = None
    traveller: Traveller | None = None  # what the event said
    event_document: TravelDocument | None = None
    entry_person: PersonRecord | None = None  # what the list says
    entry_document: SltdDocument | None = None
    entry_omitted: EntryOmitted | None = None  # set only when entry_person was cut down
    summary: Text | None = None  # one-line human summary

    @property
    def urgent(self) -> bool:
        return pages(self.band, self.urgency, self.list, self.subject_minor)

    def may_disseminate_to(self, country: str) -> bool:
        if self.dissemination is None:
            return True
        return country == self.issuer or country in self.dissemination.restricted_to
