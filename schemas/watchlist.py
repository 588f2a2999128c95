"""Watchlist entries (topic ``watchlist.entries``, compacted, key = ``entry_id``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import ConfigDict, Field, StrictStr, model_validator
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from schemas.common import (
    CountryCode,
    DocumentNumber,
    DocumentType,
    Model,
    NameText,
    PartialDate,
    Sex,
    normalise_document_number,
)

SCHEMA_VERSION = "entry/1"


class ListKind(StrEnum):
    RED_NOTICE = "red_notice"
    YELLOW_NOTICE = "yellow_notice"
    DIFFUSION = "diffusion"
    BLUE_NOTICE = "blue_notice"
    GREEN_NOTICE = "green_notice"
    SLTD = "sltd"


class Action(StrEnum):
    ARREST = "arrest"
    LOCATE = "locate"
    PROTECT = "protect"
    INFORM = "inform"
    SEIZE_DOCUMENT = "seize_document"


class EntryStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class SltdStatus(StrEnum):
    STOLEN = "stolen"
    STOLEN_BLANK = "stolen_blank"  # a blank booklet stolen before personalisation
    LOST = "lost"
    REVOKED = "revoked"
    INVALIDATED = "invalidated"


class PersonName(Model):
    surname: NameText
    given_names: NameText | None = None
    patronymic: NameText | None = None


class EntryDocument(Model):
    """A document a listed person is known to hold."""

    number: DocumentNumber
    issuing_state: CountryCode
    type: DocumentType | None = None

    @property
    def normalised_number(self) -> str:
        return normalise_document_number(self.number)


class PersonRecord(Model):
    names: Annotated[list[PersonName], Field(min_length=1, max_length=50)]
    date_of_birth: PartialDate | None = None
    sex: Sex | None = None
    nationalities: Annotated[list[CountryCode], Field(max_length=10)] = Field(default_factory=list)
    documents: Annotated[list[EntryDocument], Field(max_length=50)] = Field(default_factory=list)


class SltdDocument(Model):
    number: DocumentNumber
    issuing_state: CountryCode
    type: DocumentType | None = None
    status: Annotated[SltdStatus, Field(strict=False)]

    @property
    def normalised_number(self) -> str:
        return normalise_document_number(self.number)


class Dissemination(Model):
    restricted_to: Annotated[list[CountryCode], Field(min_length=1, max_length=250)]


EntryId = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")]


# The JSON Schema form of ``_subject_matches_list``: an sltd entry needs its document, every
# other list its person (present and not null).
_SUBJECT_BY_LIST: JsonDict = {
    "allOf": [
        {
            "if": {"properties": {"list": {"const": "sltd"}}, "required": ["list"]},
            "then": {"required": ["document"], "properties": {"document": {"type": "object"}}},
            "else": {"required": ["person"], "properties": {"person": {"type": "object"}}},
        }
    ]
}


class WatchlistEntry(Model):
    model_config = ConfigDict(json_schema_extra=_SUBJECT_BY_LIST)

    entry_id: EntryId
    list: Annotated[ListKind, Field(strict=False)]
    status: Annotated[EntryStatus, Field(strict=False)]
    issuer: CountryCode
    action: Annotated[Action, Field(strict=False)]
    dissemination: Dissemination | None = None
    person: PersonRecord | None = None
    document: SltdDocument | None = None

    @model_validator(mode="after")
    def _subject_matches_list(self) -> Self:
        if self.list is ListKind.SLTD:
            if self.document is None:
                raise PydanticCustomError(
                    "document_required",
                    "an sltd entry needs '{field}' (the listed document)",
                    {"field": "document"},
                )
        elif self.person is None:
            raise PydanticCustomError(
                "person_required",
                "a {list} entry needs '{field}'",
                {"list": self.list.value, "field": "person"},
            )
        return self

    @property
    def is_active(self) -> bool:
        return self.status is EntryStatus.ACTIVE

    def may_disseminate_to(self, country: str) -> bool:
        """No restriction = every member country; else the listed countries and the issuer."""
        if self.dissemination is None:
            return True
        return country == self.issuer or country in self.dissemination.restricted_to
