"""A watchlist hit as the analysis keeps it (topic ``analyst.sightings``, beside the events).

The analyst copies each alert's hit into its history as this small record rather than the
alert: the history needs who was listed on which list, not the listed person's particulars
(data minimisation; the alert stays on ``alerts``).
"""

from __future__ import annotations

import builtins
from typing import Annotated

from pydantic import Field

from schemas.alert import Alert, Band
from schemas.common import CountryCode, Model
from schemas.event import EventId
from schemas.watchlist import EntryId, ListKind

SCHEMA_VERSION = "listed_hit/1"


class ListedHit(Model):
    event_id: EventId
    entry_id: EntryId
    list: Annotated[ListKind, Field(strict=False)]
    band: Annotated[Band, Field(strict=False)]
    issuer: CountryCode
    restricted_to: builtins.list[CountryCode] | None = None

    @classmethod
    def of(cls, alert: Alert) -> ListedHit:
        restricted = alert.dissemination.restricted_to if alert.dissemination else None
        return cls(
            event_id=alert.event_id,
            entry_id=alert.entry_id,
            list=alert.list,
            band=alert.band,
            issuer=alert.issuer,
            restricted_to=restricted,
        )
