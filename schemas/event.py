"""Canonical events (topics ``events.border_crossing`` and ``events.document_check``)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from schemas.common import (
    CountryCode,
    DocumentNumber,
    DocumentType,
    FullDate,
    Model,
    NameText,
    NoControlChars,
    PartialDate,
    Sex,
    ShortText,
    Timestamp,
    normalise_document_number,
)

SCHEMA_VERSION = "event/1"

# A UUID as text, any case; the sender's id, so kept exactly as sent.
EventId = Annotated[
    StrictStr,
    Field(
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        description="The sender's event id (UUID); the same id sent twice is one event.",
    ),
]
MrzLine = Annotated[StrictStr, Field(min_length=1, max_length=60), NoControlChars]

# Nothing border systems report happened before 1990; an earlier time is a broken clock or a
# default value ("0001-01-01") that would sort to the start of every timeline.
EARLIEST_OCCURRED_AT = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
# How far a sender's clock may run ahead of ingest's (time zones wrongly applied included).
MAX_AHEAD_OF_RECEIPT = dt.timedelta(days=1)
# Validation context key: ``Event.model_validate(raw, context={RECEIVED_AT: now})``. The model
# reads no clock itself (consumers validate long-stored events); whoever receives events does.
RECEIVED_AT = "received_at"


def _check_occurred_at(value: dt.datetime, info: ValidationInfo) -> dt.datetime:
    # The year first (exact: offsets are under a day): comparing aware datetimes costs two
    # utcoffset calls, and this runs for every event.
    if value.year <= EARLIEST_OCCURRED_AT.year and value < EARLIEST_OCCURRED_AT:
        raise PydanticCustomError(
            "occurred_too_early", "an event cannot have occurred before 1990-01-01"
        )
    received = info.context.get(RECEIVED_AT) if isinstance(info.context, dict) else None
    if isinstance(received, dt.datetime) and value > received + MAX_AHEAD_OF_RECEIPT:
        raise PydanticCustomError(
            "occurred_in_future",
            "more than a day after the event was received ({received}); "
            "send when it happened, with its UTC offset",
            {"received": received.isoformat(timespec="seconds")},
        )
    return value


OccurredAt = Annotated[
    Timestamp,
    AfterValidator(_check_occurred_at),
    Field(
        description="When it happened (RFC 3339 with offset): not before 1990-01-01, and at "
        "most one day after ingest receives the event."
    ),
]


class EventType(StrEnum):
    BORDER_CROSSING = "border_crossing"
    DOCUMENT_CHECK = "document_check"


class Direction(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


class LocationKind(StrEnum):
    AIR = "air"
    LAND = "land"
    SEA = "sea"
    RAIL = "rail"
    INLAND = "inland"  # police check, consulate, hotel registration


class Location(Model):
    code: Annotated[StrictStr, Field(min_length=1, max_length=50), NoControlChars]
    name: ShortText | None = None
    kind: Annotated[LocationKind, Field(strict=False)] | None = None


class Traveller(Model):
    surname: NameText
    given_names: NameText | None = None
    patronymic: NameText | None = None
    date_of_birth: PartialDate | None = None
    sex: Sex | None = None
    nationality: CountryCode | None = None


class TravelDocument(Model):
    number: DocumentNumber
    issuing_state: CountryCode
    type: DocumentType | None = None
    expiry_date: FullDate | None = None
    mrz: Annotated[list[MrzLine], Field(min_length=2, max_length=3)] | None = None

    @property
    def normalised_number(self) -> str:
        return normalise_document_number(self.number)


class PartyRole(StrEnum):
    MEMBER = "member"
    GUARDIAN = "guardian"  # the adult declared responsible for the party's minors


class Consent(StrEnum):
    SHOWN = "shown"
    NOT_SHOWN = "not_shown"


class Party(Model):
    """The people a post processed together (one booking, one car, one family at the desk)."""

    id: Annotated[
        StrictStr,
        Field(
            min_length=1,
            max_length=100,
            description="The post's id for the people it processed together; unique per "
            "reported_by. Every member's event carries the same id.",
        ),
        NoControlChars,
    ]
    role: Annotated[PartyRole, Field(strict=False)] = PartyRole.MEMBER
    size: Annotated[StrictInt, Field(ge=1, le=1000)] | None = None
    consent: (
        Annotated[
            Consent,
            Field(
                strict=False,
                description="For a minor: whether a parental travel consent was shown; null when "
                "not asked or not applicable.",
            ),
        ]
        | None
    ) = None


class TransportMode(StrEnum):
    AIR = "air"
    ROAD = "road"
    RAIL = "rail"
    SEA = "sea"
    FOOT = "foot"


class Transport(Model):
    """How the traveller travels; origin and destination are the journey's, not the post's."""

    mode: Annotated[TransportMode, Field(strict=False)] | None = None
    carrier: (
        Annotated[
            StrictStr,
            Field(min_length=1, max_length=100, description="IATA code or company."),
            NoControlChars,
        ]
        | None
    ) = None
    number: (
        Annotated[
            StrictStr,
            Field(min_length=1, max_length=50, description="Flight, train, bus or vehicle plate."),
            NoControlChars,
        ]
        | None
    ) = None
    origin: CountryCode | None = None
    destination: CountryCode | None = None


class FieldFlag(Model):
    """Something ingest noticed about a field but did not reject (e.g. disagrees with MRZ)."""

    field: Annotated[StrictStr, Field(max_length=100), NoControlChars]
    reason: Annotated[StrictStr, Field(max_length=300), NoControlChars]


class Event(Model):
    event_id: EventId
    type: Annotated[EventType, Field(strict=False)]
    occurred_at: OccurredAt
    reported_by: Annotated[StrictStr, Field(min_length=1, max_length=100), NoControlChars]
    country: CountryCode
    location: Location | None = None
    direction: Annotated[Direction, Field(strict=False)] | None = None
    traveller: Traveller
    document: TravelDocument | None = None
    party: Party | None = None
    transport: Transport | None = None
    # Added by ingest; absent on what border agencies send.
    flags: list[FieldFlag] = Field(default_factory=list)
    received_at: Timestamp | None = None
    mrz_valid: StrictBool | None = None

    @model_validator(mode="after")
    def _direction_matches_type(self) -> Self:
        if self.type is EventType.BORDER_CROSSING and self.direction is None:
            raise PydanticCustomError(
                "direction_required",
                "a border_crossing needs '{field}' (entry or exit)",
                {"field": "direction"},
            )
        return self
