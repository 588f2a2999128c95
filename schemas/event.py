"""Canonical events (topics ``events.border_crossing`` and ``events.document_check``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, StrictBool, StrictStr, model_validator
from pydantic_core import PydanticCustomError

from schemas.common import (
    CountryCode,
    DocumentNumber,
    DocumentType,
    FullDate,
    Model,
    NameText,
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
MrzLine = Annotated[StrictStr, Field(min_length=1, max_length=60)]


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
    code: Annotated[StrictStr, Field(min_length=1, max_length=50)]
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


class FieldFlag(Model):
    """Something ingest noticed about a field but did not reject (e.g. disagrees with MRZ)."""

    field: Annotated[StrictStr, Field(max_length=100)]
    reason: Annotated[StrictStr, Field(max_length=300)]


class Event(Model):
    event_id: EventId
    type: Annotated[EventType, Field(strict=False)]
    occurred_at: Timestamp
    reported_by: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    country: CountryCode
    location: Location | None = None
    direction: Annotated[Direction, Field(strict=False)] | None = None
    traveller: Traveller
    document: TravelDocument | None = None
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
