"""False-match suppressions (topic ``suppressions``, compacted, key = ``suppression_id``).

A supervisor who finds that a traveller is not the listed person (a ``false_match`` outcome
given or confirmed by a supervisor) silences that one (traveller, entry) pair at the posts of
the supervisor's country until ``expires_at``. The traveller is identified by the document
presented with the name and date of birth on it, so another person of the same name and birth
date still alerts. Only name-based (person) hits are ever suppressed, never a document hit.
A false match found in one country silences nothing elsewhere: other posts may hold other
evidence. Each record is the pair's latest state: compaction keeps one per pair.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, StrictStr, model_validator
from pydantic_core import PydanticCustomError

from schemas.alert import AlertKind
from schemas.common import (
    CountryCode,
    DocumentNumber,
    Model,
    NameText,
    PartialDate,
    Timestamp,
    normalise_document_number,
    uuid5_hex,
)
from schemas.event import TravelDocument, Traveller
from schemas.topics import TopicName
from schemas.watchlist import EntryId, ListKind

SCHEMA_VERSION = "suppression/1"
SUPPRESSIONS_TOPIC: TopicName = "suppressions"

# Fixed namespace: a pair's id must be the same on every machine and in every release.
_SUPPRESSION_NAMESPACE = uuid.UUID("4c8e2b7a-1f3d-4a6b-9e05-7d2c1b8f3a64").bytes

SuppressionId = Annotated[StrictStr, Field(pattern=r"^s-[0-9a-f]{32}$")]
Actor = Annotated[StrictStr, Field(min_length=1, max_length=200)]
Comment = Annotated[StrictStr, Field(max_length=4000)]


class SuppressionState(StrEnum):
    PENDING = "pending"  # a duty officer's false_match, waiting for a supervisor
    ACTIVE = "active"  # given or confirmed by a supervisor: the pair does not alert
    REVOKED = "revoked"  # withdrawn by a supervisor: the pair alerts again


def _name_form(text: str | None) -> str:
    """Case, compatibility forms and spacing ignored; letters otherwise as written."""
    if not text:
        return ""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


class TravellerIdentity(Model):
    """Who was met: the document presented and the name and birth date it was read with."""

    surname: NameText
    given_names: NameText | None = None
    date_of_birth: PartialDate | None = None
    document_number: DocumentNumber
    issuing_state: CountryCode

    @classmethod
    def of(cls, traveller: Traveller, document: TravelDocument | None) -> TravellerIdentity | None:
        """The identity of an event's traveller; None without a document (no identity to
        suppress: a name and birth date alone are shared by strangers)."""
        if document is None:
            return None
        return cls(
            surname=traveller.surname,
            given_names=traveller.given_names,
            date_of_birth=traveller.date_of_birth,
            document_number=document.number,
            issuing_state=document.issuing_state,
        )

    def fingerprint(self) -> str:
        """The comparable form: equal for the same person presenting the same document."""
        parts = (
            _name_form(self.surname),
            _name_form(self.given_names),
            self.date_of_birth or "",
            normalise_document_number(self.document_number),
            self.issuing_state.upper(),
        )
        return "\x1f".join(parts)


def suppression_id_for(country: str, entry_id: str, identity: TravellerIdentity) -> str:
    """One record per (traveller identity, entry) pair and country."""
    name = f"{country}\x1f{entry_id}\x1f{identity.fingerprint()}"
    return "s-" + uuid5_hex(_SUPPRESSION_NAMESPACE, name)


def suppression_key(suppression_id: str) -> bytes:
    return suppression_id.encode()


class Suppression(Model):
    suppression_id: SuppressionId
    state: Annotated[SuppressionState, Field(strict=False)]
    entry_id: EntryId
    list: Annotated[ListKind, Field(strict=False)]
    kind: Annotated[AlertKind, Field(strict=False)] = AlertKind.PERSON
    issuer: CountryCode
    country: CountryCode  # where the false match was found: its posts are silenced
    identity: TravellerIdentity
    alert_id: Annotated[StrictStr, Field(pattern=r"^a-[0-9a-f]{32}$")]  # the alert answered
    comment: Comment | None = None
    reported_by: Actor  # who answered false_match
    reported_at: Timestamp
    confirmed_by: Actor | None = None  # the supervisor who made it active
    confirmed_at: Timestamp | None = None
    expires_at: Timestamp | None = None  # set once active
    revoked_by: Actor | None = None
    revoked_at: Timestamp | None = None
    revoke_reason: Comment | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.kind != AlertKind.PERSON or self.list == ListKind.SLTD:
            raise PydanticCustomError(
                "suppression_kind", "kind: a document hit is never suppressed", {}
            )
        if self.suppression_id != suppression_id_for(self.country, self.entry_id, self.identity):
            raise PydanticCustomError(
                "suppression_id", "suppression_id: does not name this identity and entry", {}
            )
        if self.state != SuppressionState.PENDING and self.expires_at is None:
            raise PydanticCustomError(
                "suppression_expiry", "expires_at: required once confirmed", {}
            )
        return self

    def silences(self, now: datetime) -> bool:
        """Active and not yet expired."""
        return (
            self.state == SuppressionState.ACTIVE
            and self.expires_at is not None
            and now < self.expires_at
        )
