"""Who may send what: agencies, their hashed API keys and the countries they report for.

Keys are stored as SHA-256 hex digests, never in clear; an API key is a long random secret,
so an unsalted fast hash is enough (there is nothing to guess from a dictionary). Intake
secrets (``schemas.intake``) sign raw Kafka records, so ingest must hold them in clear: the
file is a secret (a Kubernetes Secret, mode 0600), and each secret belongs to one agency.
"""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from schemas.common import CountryCode
from schemas.intake import IntakeSecret, decode_secret

KeyHash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


def hash_key(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A fresh API key: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


class Agency(BaseModel):
    """One border agency: its id (the ``reported_by`` it must use), keys and countries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=100)]
    countries: Annotated[frozenset[CountryCode], Field(min_length=1)]
    key_sha256: Annotated[list[KeyHash], Field(min_length=1)]
    rate_per_s: Annotated[float, Field(gt=0)] | None = None
    burst: Annotated[float, Field(ge=1)] | None = None
    # Several while one is rotated; none: the agency may not use the Kafka intake.
    intake_secrets: Annotated[tuple[IntakeSecret, ...], Field(max_length=5, repr=False)] = ()
    _intake_keys: tuple[bytes, ...] = PrivateAttr(default=())

    def model_post_init(self, context: object, /) -> None:
        self._intake_keys = tuple(decode_secret(s) for s in self.intake_secrets)

    @property
    def intake_keys(self) -> tuple[bytes, ...]:
        """The decoded intake secrets (decoded once, when the file is read)."""
        return self._intake_keys

    @field_validator("key_sha256", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        if isinstance(value, list):
            return [v.lower() if isinstance(v, str) else v for v in value]
        return value


class AgencyDirectory(BaseModel):
    """The parsed agencies file, indexed by key hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agencies: list[Agency] = Field(default_factory=list)
    _by_hash: dict[str, Agency] = PrivateAttr(default_factory=dict)
    _by_id: dict[str, Agency] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object, /) -> None:
        by_hash: dict[str, Agency] = {}
        by_id: dict[str, Agency] = {}
        signer: dict[bytes, str] = {}
        for agency in self.agencies:
            if agency.id in by_id:
                raise ValueError(f"agency {agency.id!r} appears twice")
            by_id[agency.id] = agency
            for digest in agency.key_sha256:
                if digest in by_hash:
                    raise ValueError(f"a key hash is listed for {by_hash[digest].id!r} too")
                by_hash[digest] = agency
            for key in agency.intake_keys:  # one owner each, so a signature names one agency
                if signer.setdefault(key, agency.id) != agency.id:
                    raise ValueError(f"an intake secret is listed for {signer[key]!r} too")
        self._by_hash = by_hash
        self._by_id = by_id

    def authenticate(self, key: str | None) -> Agency | None:
        if not key:
            return None
        return self._by_hash.get(hash_key(key))

    def by_id(self, agency_id: str | None) -> Agency | None:
        if not agency_id:
            return None
        return self._by_id.get(agency_id)


class Denial(StrEnum):
    COUNTRY = "country"
    REPORTED_BY = "reported_by"


def authorise(agency: Agency, country: str, reported_by: str) -> Denial | None:
    """Why ``agency`` may not send this event, or None when it may.

    ``reported_by`` must be the agency's own id, so one agency cannot speak for another.
    """
    if country not in agency.countries:
        return Denial.COUNTRY
    if reported_by != agency.id:
        return Denial.REPORTED_BY
    return None


DENIAL_MESSAGES = {
    Denial.COUNTRY: "this agency may not report events for this country",
    Denial.REPORTED_BY: "reported_by must be the id of the agency that owns the API key",
}
