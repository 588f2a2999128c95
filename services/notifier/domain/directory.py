"""The contact-point directory: who each country's contact points are and how to reach them.

Parsed from YAML by the service (see deploy/notifier/contact-points.example.yaml); this module
only validates the structure and answers questions about it. How an entry is reached
(``webhook:``, ``email:``...) is declared by each channel as a ``ChannelSpec`` and handed in by
the caller (``services.notifier.channels.registry.SPECS``): the domain imports no channel.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Generic, Self, TypeVar, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SkipValidation,
    StrictStr,
    ValidationInfo,
    create_model,
    model_validator,
)

from schemas.alert import Alert
from schemas.common import CountryCode
from schemas.notification import Channel, NoticeKind
from services.notifier.domain.words import LANGUAGES

ContactPointId = Annotated[StrictStr, Field(min_length=1, max_length=100)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


T = TypeVar("T")
CHANNELS = "channels"  # the validation context's key for the channels a directory knows


@dataclass(frozen=True)
class ChannelSpec(Generic[T]):
    """A channel as the directory and routing see it: the field of a contact point's entry that
    says how to reach it there (validated by ``type``), and the rule that picks the address a
    notice goes to (None: not over this channel). Declared by the channel's own module."""

    channel: Channel
    field: str
    type: Any  # the field's pydantic type, with its validation
    default: T
    select: Callable[[T, ContactPoint, Alert, NoticeKind], str | None]

    def value_of(self, cp: ContactPoint) -> T:
        for reach in cp.reach:
            if reach.spec.channel is self.channel:
                return cast(T, reach.value)
        return self.default


@dataclass(frozen=True)
class Reach:
    """One channel field a contact point's entry gives, validated."""

    spec: ChannelSpec[Any]
    value: Any

    def __repr__(self) -> str:
        return f"{self.spec.field}={self.value!r}"


@cache
def _fields_of(specs: tuple[ChannelSpec[Any], ...]) -> type[BaseModel]:
    """One model of the channels' fields, so a bad value is reported under its field's name."""
    fields: dict[str, Any] = {s.field: (s.type, s.default) for s in specs}
    return create_model("ChannelFields", __config__=ConfigDict(extra="forbid"), **fields)


def _known_language(code: str) -> str:
    if code not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    return code


class ContactPoint(_Strict):
    id: ContactPointId
    country: CountryCode
    name: StrictStr = ""
    # The language its alerts are written in (e-mail) and its console opens in: en, ru, uz
    # (Latin), kk, ky, tg, tk. The catalogues in locale/ hold these.
    language: Annotated[StrictStr, AfterValidator(_known_language)] = "en"
    # sha256 hex of the key the contact point sends as "Authorization: Bearer <key>".
    api_key_sha256: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    # The channel fields of the entry (``webhook:``, ``email:``...), in the channels' order.
    reach: SkipValidation[tuple[Reach, ...]] = Field(default=(), exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _channel_fields(cls, raw: Any, info: ValidationInfo) -> Any:
        """Takes the fields of the channels in the validation context out of the entry."""
        if not isinstance(raw, dict):
            return raw
        if "reach" in raw:
            raise ValueError("unknown field: reach")
        specs: tuple[ChannelSpec[Any], ...] = tuple((info.context or {}).get(CHANNELS, ()))
        given = {s.field: raw[s.field] for s in specs if s.field in raw}
        values = _fields_of(specs).model_validate(given)
        rest = {key: value for key, value in raw.items() if key not in given}
        rest["reach"] = tuple(Reach(s, getattr(values, s.field)) for s in specs if s.field in given)
        return rest

    @classmethod
    def parse(cls, raw: Any, channels: Sequence[ChannelSpec[Any]]) -> ContactPoint:
        return cls.model_validate(raw, context={CHANNELS: tuple(channels)})

    def key_matches(self, key: str) -> bool:
        if self.api_key_sha256 is None:
            return False
        digest = hashlib.sha256(key.encode()).hexdigest()
        return hmac.compare_digest(digest, self.api_key_sha256)


class CountryRoute(_Strict):
    primary: ContactPointId
    backup: ContactPointId | None = None
    # The bureau's supervisor desk: reminded when no outcome is given in time (12-hour rule).
    supervisor: ContactPointId | None = None


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
        refs += [r.supervisor for r in self.countries.values() if r.supervisor]
        if self.coordination_centre:
            refs.append(self.coordination_centre)
        missing = sorted(set(refs) - known)
        if missing:
            raise ValueError(f"unknown contact points referenced: {missing}")
        return self

    @classmethod
    def parse(cls, raw: Any, channels: Sequence[ChannelSpec[Any]]) -> Directory:
        """``channels``: the registered channels (``services.notifier.channels.SPECS``); an
        entry's field of any other channel is refused."""
        return cls.model_validate(raw, context={CHANNELS: tuple(channels)})

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

    def supervisor_of(self, country: str) -> ContactPoint | None:
        """The country's supervisor desk; its primary contact point when it names none."""
        route = self.countries.get(country)
        if route is None:
            return None
        return self.get(route.supervisor or route.primary)

    def by_api_key(self, key: str) -> ContactPoint | None:
        for cp in self.contact_points:
            if cp.key_matches(key):
                return cp
        return None

    @property
    def coordination(self) -> ContactPoint | None:
        return self.get(self.coordination_centre) if self.coordination_centre else None
