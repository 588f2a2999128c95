"""One event as the patterns see it: a person at a time and place, with whom and how.

State keys (document, party, transport) are pseudonyms: the history never holds a document
number or a party id in clear as a key. The labels beside them (a post's party id, a flight
and its day) name no person: a lead's evidence carries them for the analyst's link chart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from schemas.common import normalise_document_number
from schemas.event import Consent, Event, EventType, PartyRole
from services.analyst.domain.identity import Identity
from services.analyst.domain.pseudonym import Pseudonymiser
from services.matcher.domain.dates import is_minor

AGE_BANDS = ((0, "0-17"), (18, "18-24"), (25, "25-34"), (35, "35-49"), (50, "50+"))


@dataclass(frozen=True)
class Hit:
    """A watchlist hit of an event (an alert, or the matcher run offline)."""

    event_id: str
    entry_id: str
    list: str
    band: str
    restricted_to: tuple[str, ...] | None = None
    issuer: str | None = None


@dataclass(frozen=True, slots=True)
class Sighting:
    event_id: str
    at: dt.datetime
    day: dt.date  # of ``at``, in UTC
    country: str
    crossing: bool
    direction: str | None
    identity: Identity
    document: str | None  # pseudonym of (normalised number, issuing state)
    document_shown: tuple[str, str] | None  # (number, issuing state) as presented
    minor: bool
    party: str | None  # pseudonym of (reported_by, party id)
    party_label: str | None  # the event's party.id, as the post wrote it
    party_size: int | None
    guardian: bool
    consent_missing: bool
    trip: str | None  # pseudonym of (transport mode, number, day)
    trip_label: str | None  # "<mode> <number> <YYYY-MM-DD>": the trip the pseudonym keys
    destination: str | None


def age_band(date_of_birth: str | None, on: dt.date) -> str | None:
    """The profile band of ``flow_surge``; None when the year of birth is unknown."""
    if not date_of_birth:
        return None
    age = on.year - int(date_of_birth[:4])
    label = None
    for low, name in AGE_BANDS:
        if age >= low:
            label = name
    return label


def sighting_of(event: Event, pseudo: Pseudonymiser) -> Sighting:
    t = event.traveller
    identity = Identity(
        t.surname, t.given_names, t.patronymic, t.date_of_birth, t.sex, t.nationality
    )
    at = event.occurred_at
    day = at.astimezone(dt.UTC).date()
    document = shown = None
    if event.document is not None:
        number = normalise_document_number(event.document.number)
        document = pseudo.once("document", number, event.document.issuing_state)
        shown = (event.document.number, event.document.issuing_state)
    party = event.party
    transport = event.transport
    trip = trip_label = None
    if transport is not None and transport.number:
        mode = transport.mode.value if transport.mode else ""
        number = normalise_document_number(transport.number)
        trip = pseudo.recurring("trip", mode, number, day.isoformat())
        trip_label = f"{mode} {number} {day.isoformat()}".lstrip()
    return Sighting(
        event_id=event.event_id,
        at=at,
        day=day,
        country=event.country,
        crossing=event.type is EventType.BORDER_CROSSING,
        direction=event.direction.value if event.direction else None,
        identity=identity,
        document=document,
        document_shown=shown,
        minor=is_minor(t.date_of_birth, at.date()),
        party=pseudo.recurring("party", event.reported_by, party.id) if party else None,
        party_label=party.id if party else None,
        party_size=party.size if party else None,
        guardian=party is not None and party.role is PartyRole.GUARDIAN,
        consent_missing=party is not None and party.consent is Consent.NOT_SHOWN,
        trip=trip,
        trip_label=trip_label,
        destination=transport.destination if transport else None,
    )
