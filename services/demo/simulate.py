"""Pure traffic generation: one border event at a time, seeded and deterministic.

The simulator draws a post by its traffic in the current hour, a traveller (mostly of the
post's own country, else of the region), writes the name as the traveller's document writes
it (Cyrillic on domestic documents at inland checks) and builds a passport MRZ. A share of
travellers are on the demo watchlist (a listed person under another spelling, or someone
carrying a listed stolen document) and a share of records are broken on purpose. A share of
draws are travel parties (a family with its own children, or a group of adults), and every
border crossing says how the traveller travels (``services/demo/parties.py``). With a
``PlantSpec`` it also emits planted instances of the analysis patterns when the clock reaches
them (``services/demo/plant.py``). Given the same seed and the same clock readings, it yields
the same events.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import deque
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from schemas.watchlist import WatchlistEntry
from services.demo.broken import Flaw, break_event
from services.demo.names import Standard
from services.demo.parties import (
    ADULT_YEARS,
    Member,
    birth,
    family,
    group,
    party_block,
    party_id,
    transport_for,
)
from services.demo.plant import Appearance, Planter, PlantSpec
from services.demo.posts import POSTS, Kind, Post, weights_at
from services.demo.simulate_listed import ListedPicker, Pick, listed_holder
from services.demo.traveller import (
    NATIONALITIES,
    Holder,
    NumberBook,
    Person,
    holder_of,
    make_passport,
    make_person,
    passport_mrz,
    passport_number,
)
from services.matcher.domain.dates import is_minor
from services.matcher.domain.transliterate import is_cyrillic


class Sort(StrEnum):
    NORMAL = "normal"
    LISTED_PERSON = "listed_person"
    LISTED_DOCUMENT = "listed_document"
    BROKEN = "broken"
    PLANTED = "planted"  # part of a planted instance of an analysis pattern


@dataclass(frozen=True)
class SimulationSpec:
    seed: int = 1
    listed_share: float = 0.02
    broken_share: float = 0.01
    domestic_share: float = 0.55  # travellers holding the post country's nationality
    party_share: float = 0.1  # draws that are a travel party (a family or a group)
    garbage: bool = False  # may a broken record be raw bytes (Kafka) rather than bad JSON?


@dataclass(frozen=True)
class Generated:
    sort: Sort
    value: dict[str, Any] | bytes
    entry_id: str | None = None  # the watchlist entry a listed traveller should match
    flaw: Flaw | None = None
    agency: str = ""  # the agency that runs the post: who sends it
    planted: str | None = None  # "<pattern>#<n>" of a planted instance

    @property
    def event_id(self) -> str | None:
        value = self.value.get("event_id") if isinstance(self.value, dict) else None
        return value if isinstance(value, str) else None


_REFERENCE_DAY = dt.date(2026, 1, 1)  # ages of impostors count from here: fixed births


def _nation(state: str) -> str:
    return state if state in NATIONALITIES else "RUS"


def reporter(post: Post) -> str:
    """The agency (``reported_by``) that runs this post: border guard, or police inland."""
    return f"{post.country}-{'POLICE' if post.kind is Kind.INLAND else 'BORDER'}"


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Document:
    number: str
    issuing_state: str
    expiry: dt.date
    type: str
    mrz: list[str] | None


class Simulator:
    def __init__(
        self,
        spec: SimulationSpec,
        watchlist: list[dict[str, Any]] | None = None,
        plant: PlantSpec | None = None,
    ):
        self.spec = spec
        self.rng = random.Random(spec.seed)  # noqa: S311 - seeded on purpose: runs must repeat
        self.listed = ListedPicker(watchlist or [])
        self._hour_weights: dict[int, list[float]] = {}
        self._pending: deque[Generated] = deque()
        self.numbers = NumberBook()
        self._entries = {e.entry_id: e for e in self.listed.person_entries()}
        self.planter: Planter | None = None
        if plant is not None:
            # its own stream: planting does not change the background traffic of a seed
            rng = random.Random(spec.seed + 1)  # noqa: S311 - seeded on purpose
            self.planter = Planter(plant, rng, self.listed.person_entries(), self.numbers)

    def next(self, now: dt.datetime) -> Generated:
        if not self._pending and self.planter is not None:
            self._pending.extend(self._planted(now, a) for a in self.planter.due(now))
        if self._pending:
            return self._pending.popleft()
        roll = self.rng.random()
        post = self._post(now)
        if roll < self.spec.broken_share:
            event = self._normal(now, post)
            flaw = break_event(self.rng, event, garbage=self.spec.garbage)
            value = flaw[1] if flaw[1] is not None else event
            return Generated(Sort.BROKEN, value, flaw=flaw[0], agency=reporter(post))
        if roll < self.spec.broken_share + self.spec.listed_share:
            pick = self.listed.pick(self.rng, post.country)
            if pick is not None:
                return self._listed(now, post, pick)
        party_roll = roll - self.spec.broken_share - self.spec.listed_share
        if post.kind is not Kind.INLAND and party_roll < self.spec.party_share:
            self._pending.extend(self._party(now, post))
            return self._pending.popleft()
        return Generated(Sort.NORMAL, self._normal(now, post), agency=reporter(post))

    def _post(self, now: dt.datetime) -> Post:
        hour = now.astimezone(dt.UTC).hour
        weights = self._hour_weights.get(hour)
        if weights is None:
            weights = self._hour_weights[hour] = weights_at(hour)
        return self.rng.choices(POSTS, weights=weights)[0]

    def _nationality(self, post: Post) -> str:
        if post.country in NATIONALITIES and self.rng.random() < self.spec.domestic_share:
            return post.country
        return self.rng.choice(NATIONALITIES)

    def _normal(self, now: dt.datetime, post: Post) -> dict[str, Any]:
        person = make_person(self.rng, self._nationality(post), now.date())
        if is_minor(person.date_of_birth.isoformat(), now.date()):
            # a child does not cross a border on its own: children travel in parties
            person = replace(person, date_of_birth=birth(self.rng, now.date(), ADULT_YEARS))
        return self._of(now, post, person)

    def _of(self, now: dt.datetime, post: Post, person: Person) -> dict[str, Any]:
        if post.kind is Kind.INLAND and person.nationality == post.country:
            # a domestic identity document: the name as printed in Cyrillic, no MRZ read
            holder = holder_of(person, Standard.CYRILLIC)
            return self._event(now, post, holder, self._id_card(now, holder))
        passport = make_passport(self.rng, person, now.date())
        number = self.numbers.claim(passport.number, self.rng, passport.issuing_state)
        holder = holder_of(person, passport.standard)
        mrz = passport_mrz(holder, number, passport.issuing_state, passport.expiry)
        document = Document(number, passport.issuing_state, passport.expiry, "P", mrz)
        return self._event(now, post, holder, document)

    def _party(self, now: dt.datetime, post: Post) -> list[Generated]:
        """A family or a group processed together: one party id, one direction and transport."""
        make = family if self.rng.random() < 0.6 else group
        members: list[Member] = make(self.rng, self._nationality(post), now.date())
        direction = "entry" if self.rng.random() < 0.5 else "exit"
        transport = transport_for(self.rng, post, direction)
        pid = party_id(self.rng, post, now.date())
        out = []
        for member in members:
            event = self._of(now, post, member.person)
            event |= {"direction": direction, "transport": transport}
            event["party"] = party_block(pid, member, len(members))
            out.append(Generated(Sort.NORMAL, event, agency=reporter(post)))
        return out

    def _planted(self, now: dt.datetime, item: Appearance) -> Generated:
        number, state = item.document
        entry = self._entries.get(item.entry_id or "")
        if entry is not None:
            number, state = self._listed_document(entry, item.holder)
        document = self._passport(now, item.holder, number, state)
        event = self._event(now, item.post, item.holder, document)
        event["direction"] = item.direction
        event["transport"] = item.transport
        if item.party is not None:
            event["party"] = item.party
        event = {k: v for k, v in event.items() if v is not None}
        return Generated(Sort.PLANTED, event, agency=reporter(item.post), planted=item.tag)

    def _id_card(self, now: dt.datetime, holder: Holder) -> Document:
        number = self.numbers.fresh(self.rng, holder.nationality)
        expiry = now.date() + dt.timedelta(days=self.rng.randrange(30, 3650))
        return Document(number, holder.nationality, expiry, "ID", None)

    def _passport(self, now: dt.datetime, holder: Holder, number: str, state: str) -> Document:
        if is_cyrillic(holder.name.surname):
            return Document(number, state, now.date() + dt.timedelta(days=900), "ID", None)
        expiry = now.date() + dt.timedelta(days=self.rng.randrange(30, 3650))
        return Document(number, state, expiry, "P", passport_mrz(holder, number, state, expiry))

    def _listed(self, now: dt.datetime, post: Post, pick: Pick) -> Generated:
        entry = pick.entry
        if entry.document is not None:  # sltd: a stranger with the listed document
            state = entry.document.issuing_state
            # one impostor per stolen document, whatever the day
            person = make_person(self._own(entry.entry_id), _nation(state), _REFERENCE_DAY)
            if person.date_of_birth.year > _REFERENCE_DAY.year - 20:  # an adult, not a child
                born = person.date_of_birth
                person = replace(person, date_of_birth=born.replace(year=born.year - 20))
            holder = holder_of(person, Standard.ICAO)
            holder = Holder(holder.name, holder.sex, holder.date_of_birth, state)
            document = self._passport(now, holder, entry.document.number, state)
            event = self._event(now, post, holder, document)
            return Generated(
                Sort.LISTED_DOCUMENT, event, entry_id=entry.entry_id, agency=reporter(post)
            )
        holder = listed_holder(self.rng, entry, post.country)
        number, state = self._listed_document(entry, holder)
        event = self._event(now, post, holder, self._passport(now, holder, number, state))
        return Generated(Sort.LISTED_PERSON, event, entry_id=entry.entry_id, agency=reporter(post))

    def _listed_document(self, entry: WatchlistEntry, holder: Holder) -> tuple[str, str]:
        """The one passport a listed person travels on: the listed one, or one of their own."""
        own = entry.person.documents if entry.person else []
        if own and self._own(entry.entry_id).random() < 0.3:
            return own[0].number, own[0].issuing_state
        number = passport_number(self._own(entry.entry_id), holder.nationality)
        return self.numbers.keep(number), holder.nationality

    def _own(self, entry_id: str) -> random.Random:
        """A stream of one listed entry: what stays the same on each of its appearances."""
        return random.Random(f"{self.spec.seed}:{entry_id}")  # noqa: S311 - seeded on purpose

    def _event(
        self, now: dt.datetime, post: Post, holder: Holder, document: Document
    ) -> dict[str, Any]:
        rng = self.rng
        traveller: dict[str, Any] = {"surname": holder.name.surname}
        if holder.name.given_names:
            traveller["given_names"] = holder.name.given_names
        if holder.name.patronymic and (document.mrz is None or rng.random() < 0.3):
            traveller["patronymic"] = holder.name.patronymic
        traveller |= {
            "date_of_birth": holder.date_of_birth.isoformat(),
            "sex": holder.sex,
            "nationality": holder.nationality,
        }
        doc: dict[str, Any] = {
            "number": document.number,
            "issuing_state": document.issuing_state,
            "type": document.type,
            "expiry_date": document.expiry.isoformat(),
        }
        if document.mrz is not None:
            doc["mrz"] = document.mrz
        event: dict[str, Any] = {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "type": "document_check" if post.kind is Kind.INLAND else "border_crossing",
            "occurred_at": _timestamp(now),
            "reported_by": reporter(post),
            "country": post.country,
            "location": {"code": post.code, "name": post.name, "kind": post.kind.value},
        }
        if post.kind is not Kind.INLAND:
            event["direction"] = direction = "entry" if rng.random() < 0.5 else "exit"
            transport = transport_for(rng, post, direction)
            if transport is not None:
                event["transport"] = transport
        return event | {"traveller": traveller, "document": doc}
