"""The contact-point directory: who each country's contact points are and how to reach them.

Parsed from YAML by the service (see deploy/notifier/contact-points.example.yaml); this module
only validates the structure and answers questions about it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, model_validator

from schemas.common import CountryCode

ContactPointId = Annotated[StrictStr, Field(min_length=1, max_length=100)]
# Standard Webhooks: a secret is ``whsec_`` + base64 of 24 to 64 random bytes. Decoded when the
# directory is read, so one that cannot sign is refused there, never at the first delivery.
SECRET_BYTES = (24, 64)


def _decodable(secret: str) -> str:
    raw = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(raw, validate=True)
    except binascii.Error as exc:
        raise ValueError("webhook secret is not valid base64 after whsec_") from exc
    if not SECRET_BYTES[0] <= len(key) <= SECRET_BYTES[1]:
        low, high = SECRET_BYTES
        raise ValueError(f"webhook secret decodes to {len(key)} bytes, not {low} to {high}")
    return secret


SecretText = Annotated[
    StrictStr, Field(pattern=r"^whsec_[A-Za-z0-9+/=]{16,}$"), AfterValidator(_decodable)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebhookEndpoint(_Strict):
    url: Annotated[StrictStr, Field(pattern=r"^https?://")]
    # Several active secrets: each signs the message, so a receiver can rotate without a gap.
    secrets: Annotated[tuple[SecretText, ...], Field(min_length=1, max_length=5)]
    pager: bool = False  # a pager wakes somebody up: never used for `possible` alerts


class ContactPoint(_Strict):
    id: ContactPointId
    country: CountryCode
    name: StrictStr = ""
    webhook: WebhookEndpoint | None = None
    email: tuple[Annotated[StrictStr, Field(pattern=r"^[^@\s]+@[^@\s]+$")], ...] = ()
    console: bool = False
    # sha256 hex of the key the contact point sends as "Authorization: Bearer <key>".
    api_key_sha256: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")] | None = None

    def key_matches(self, key: str) -> bool:
        if self.api_key_sha256 is None:
            return False
        digest = hashlib.sha256(key.encode()).hexdigest()
        return hmac.compare_digest(digest, self.api_key_sha256)


class CountryRoute(_Strict):
    primary: ContactPointId
    backup: ContactPointId | None = None


class Directory(_Strict):
    contact_points: tuple[ContactPoint, ...]
    countries: dict[CountryCode, CountryRoute]
    coordination_centre: ContactPointId | None = None  # 24/7, last step of every chain

    @model_validator(mode="after")
    def _references_exist(self) -> Self:
        known = {cp.id for cp in self.contact_points}
        if len(known) != len(self.contact_points):
            raise ValueError("contact point ids must be unique")
        refs = [r.primary for r in self.countries.values()]
        refs += [r.backup for r in self.countries.values() if r.backup]
        if self.coordination_centre:
            refs.append(self.coordination_centre)
        missing = sorted(set(refs) - known)
        if missing:
            raise ValueError(f"unknown contact points referenced: {missing}")
        return self

    @classmethod
    def parse(cls, raw: Any) -> Directory:
        return cls.model_validate(raw)

    def get(self, contact_point_id: str) -> ContactPoint | None:
        for cp in self.contact_points:
            if cp.id == contact_point_id:
                return cp
        return None

    def primary_of(self, country: str) -> ContactPoint | None:
        route = self.countries.get(country)
        return self.get(route.primary) if route else None

    def chain_of(self, country: str) -> list[ContactPoint]:
        """Escalation chain of a country: primary, backup, coordination centre (as configured)."""
        route = self.countries.get(country)
        ids = [route.primary, route.backup] if route else []
        ids.append(self.coordination_centre)
        chain: list[ContactPoint] = []
        for cp_id in ids:
            cp = self.get(cp_id) if cp_id else None
            if cp is not None and cp not in chain:
                chain.append(cp)
        return chain

    def by_api_key(self, key: str) -> ContactPoint | None:
        for cp in self.contact_points:
            if cp.key_matches(key):
                return cp
        return None

    @property
    def coordination(self) -> ContactPoint | None:
        return self.get(self.coordination_centre) if self.coordination_centre else None
