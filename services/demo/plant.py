"""Instances of the analysis patterns (DESIGN.md, Lead) planted in background traffic.

Each instance is a list of appearances (a person with a document at a post at a time, maybe
in a party, maybe on a transport) spread over days; the simulator emits each once its clock
reaches it. Every planted event is tagged ``<pattern>#<n>`` so that a benchmark can score
the leads against what was planted.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from schemas.lead import Pattern
from schemas.watchlist import ListKind, WatchlistEntry
from services.demo.names import Standard
from services.demo.parties import (
    ABROAD,
    ADULT_YEARS,
    birth,
    masculine_form,
    party_id,
    stranger,
    transport_for,
)
from services.demo.posts import POSTS, Kind, Post
from services.demo.simulate_listed import listed_holder
from services.demo.traveller import (
    LATIN_STANDARDS,
    NATIONALITIES,
    Holder,
    NumberBook,
    Person,
    holder_of,
)
from services.matcher.domain.dates import is_minor

_CROSSINGS = tuple(p for p in POSTS if p.kind is not Kind.INLAND)
_AIRPORTS = tuple(p for p in POSTS if p.kind is Kind.AIR)
_INLAND = tuple(p for p in POSTS if p.kind is Kind.INLAND)
_WANTED = (ListKind.RED_NOTICE, ListKind.DIFFUSION)
SURGE_SIZE = 40  # planted crossings in a flow_surge's week
_BASELINE_WEEKS = 5  # a surge is planted after this much background (when the span allows)


@dataclass(frozen=True)
class Appearance:
    """One planted event: who, with which document, where, when, with whom and how."""

    at: dt.datetime
    post: Post
    holder: Holder
    document: tuple[str, str]  # number, issuing state
    tag: str
    party: dict[str, object] | None = None
    transport: dict[str, object] | None = None
    direction: str = "exit"
    entry_id: str | None = None  # a listed person: the simulator gives their own passport


@dataclass(frozen=True)
class PlantSpec:
    patterns: tuple[Pattern, ...]
    start: dt.datetime
    span: dt.timedelta
    instances: int = 3  # per pattern


@dataclass
class _Trip:
    """People crossing together at one post and time (a party when more than one)."""

    at: dt.datetime
    post: Post
    tag: str
    people: list[tuple[Holder, tuple[str, str], dict[str, object]]] = field(default_factory=list)

    def add(self, holder: Holder, document: tuple[str, str], **party: object) -> None:
        self.people.append((holder, document, party))

    def appearances(self, rng: random.Random, abroad: str | None = None) -> list[Appearance]:
        transport = transport_for(rng, self.post, "exit", abroad)
        pid = party_id(rng, self.post, self.at.date()) if len(self.people) > 1 else None
        out = []
        for holder, document, extra in self.people:
            party = None
            if pid is not None:
                role = "guardian" if extra.get("guardian") else "member"
                size = len(self.people)
                party = {"id": pid, "role": role, "size": size, "consent": extra.get("consent")}
            out.append(Appearance(self.at, self.post, holder, document, self.tag, party, transport))
        return out


def _wanted_adult(entry: WatchlistEntry, today: dt.date) -> bool:
    if entry.list not in _WANTED or entry.person is None:
        return False
    born = entry.person.date_of_birth
    return born is None or not is_minor(str(born), today)


def _icao(person: Person) -> Holder:
    return holder_of(person, Standard.ICAO)


class Planter:
    """The planted appearances, in time order; ``due(now)`` hands out those whose time came."""

    def __init__(
        self,
        spec: PlantSpec,
        rng: random.Random,
        listed: list[WatchlistEntry] | None = None,
        numbers: NumberBook | None = None,
    ) -> None:
        self.rng = rng
        self.spec = spec
        self.numbers = numbers or NumberBook()
        # the pattern is about traffickers: a wanted adult (a child on a diffusion is a
        # missing person's case, and would make minor_repeated_crossings of its own)
        self.wanted = [e for e in listed or [] if _wanted_adult(e, spec.start.date())]
        self._queue: list[tuple[dt.datetime, int, Appearance]] = []
        self.planted: dict[str, int] = {}
        builders: dict[Pattern, Callable[[dt.datetime, str], list[Appearance]]] = {
            Pattern.SERIAL_ESCORT: self._serial_escort,
            Pattern.ASSOCIATE_OF_LISTED: self._associate,
            Pattern.DOCUMENT_MANY_IDENTITIES: self._document_identities,
            Pattern.IDENTITY_MANY_DOCUMENTS: self._identity_documents,
            Pattern.MINOR_REPEATED_CROSSINGS: self._minor_crossings,
            Pattern.FLOW_SURGE: self._surge,
        }
        for pattern in spec.patterns:
            for n in range(1, spec.instances + 1):
                tag = f"{pattern.value}#{n}"
                found = builders[pattern](self._begin(pattern), tag)
                if found:
                    self.planted[tag] = len(found)
                for item in found:
                    heapq.heappush(self._queue, (item.at, len(self._queue), item))

    def __len__(self) -> int:
        return len(self._queue)

    def due(self, now: dt.datetime) -> list[Appearance]:
        out = []
        while self._queue and self._queue[0][0] <= now:
            out.append(heapq.heappop(self._queue)[2])
        return out

    def _document(self, person: Person, state: str | None = None) -> tuple[str, str]:
        state = state or person.nationality
        return self.numbers.fresh(self.rng, state), state

    def _begin(self, pattern: Pattern) -> dt.datetime:
        length = dt.timedelta(days=7 if pattern is Pattern.FLOW_SURGE else 35)
        room = max(self.spec.span - length, dt.timedelta(0))
        if pattern is Pattern.FLOW_SURGE and room > dt.timedelta(weeks=_BASELINE_WEEKS):
            baseline = dt.timedelta(weeks=_BASELINE_WEEKS)
            return self.spec.start + baseline + (room - baseline) * self.rng.random()
        return self.spec.start + room * self.rng.random()

    def _day(self, begin: dt.datetime, low: int, high: int) -> dt.datetime:
        return begin + dt.timedelta(days=self.rng.randint(low, high), hours=self.rng.random())

    def _person(self, years: tuple[int, int], sex: str | None = None) -> Person:
        nationality = self.rng.choice(NATIONALITIES)
        born = birth(self.rng, self.spec.start.date(), years)
        return stranger(self.rng, nationality, sex or self.rng.choice("MF"), born)

    def _unrelated(self, to: Person, years: tuple[int, int]) -> Person:
        while True:
            other = self._person(years)
            if masculine_form(other.surname) != masculine_form(to.surname):
                return other

    def _serial_escort(self, begin: dt.datetime, tag: str) -> list[Appearance]:
        adult = self._person((25, 55))
        document, out = self._document(adult), []
        for low, high in ((0, 0), (6, 12), (16, 30)):
            trip = _Trip(self._day(begin, low, high), self.rng.choice(_CROSSINGS), tag)
            minor = self._unrelated(adult, (8, 16))
            trip.add(_icao(adult), document, guardian=self.rng.random() < 0.7)
            consent = "not_shown" if self.rng.random() < 0.5 else None
            trip.add(_icao(minor), self._document(minor), consent=consent)
            out += trip.appearances(self.rng)
        return out

    def _associate(self, begin: dt.datetime, tag: str) -> list[Appearance]:
        if not self.wanted:
            return []
        entry = self.wanted[self.rng.randrange(len(self.wanted))]
        associate = self._person(ADULT_YEARS)
        document, out = self._document(associate), []
        for low, high in ((0, 0), (5, 20)):
            post = self.rng.choice(_CROSSINGS)
            if entry.dissemination and post.country not in entry.dissemination.restricted_to:
                post = self.rng.choice([p for p in _CROSSINGS if p.country == entry.issuer])
            trip = _Trip(self._day(begin, low, high), post, tag)
            listed = listed_holder(self.rng, entry, post.country)
            trip.add(_icao(associate), document)
            trip.add(listed, ("", listed.nationality))
            out += [
                replace(a, entry_id=entry.entry_id) if a.holder is listed else a
                for a in trip.appearances(self.rng)
            ]
        return out

    def _document_identities(self, begin: dt.datetime, tag: str) -> list[Appearance]:
        state = self.rng.choice(NATIONALITIES)
        document = (self.numbers.fresh(self.rng, state), state)
        countries = self.rng.sample(sorted({p.country for p in _CROSSINGS}), 3)
        out = []
        for (low, high), country in zip(((0, 0), (3, 10), (11, 20)), countries, strict=True):
            post = self.rng.choice([p for p in _CROSSINGS if p.country == country])
            trip = _Trip(self._day(begin, low, high), post, tag)
            trip.add(_icao(self._person(ADULT_YEARS)), document)
            out += trip.appearances(self.rng)
        return out

    def _identity_documents(self, begin: dt.datetime, tag: str) -> list[Appearance]:
        person = self._person(ADULT_YEARS)
        standards = self.rng.sample(LATIN_STANDARDS, 3)
        states = [person.nationality, person.nationality, self.rng.choice(NATIONALITIES)]
        out = []
        for (low, high), standard, state in zip(
            ((0, 0), (4, 12), (13, 25)), standards, states, strict=True
        ):
            trip = _Trip(self._day(begin, low, high), self.rng.choice(_CROSSINGS), tag)
            trip.add(holder_of(person, standard), self._document(person, state))
            out += trip.appearances(self.rng)
        return out

    def _minor_crossings(self, begin: dt.datetime, tag: str) -> list[Appearance]:
        minor = self._person((6, 15))
        document, out = self._document(minor), []
        for n, (low, high) in enumerate(((0, 0), (5, 12), (14, 28))):
            trip = _Trip(self._day(begin, low, high), self.rng.choice(_CROSSINGS), tag)
            if n != 1:  # the second time alone
                adult = self._unrelated(minor, ADULT_YEARS)
                trip.add(_icao(adult), self._document(adult))
            trip.add(_icao(minor), document, consent=self.rng.choice(("shown", None)))
            out += trip.appearances(self.rng)
        return out

    def _surge(self, begin: dt.datetime, tag: str) -> list[Appearance]:
        """Young women leaving one country for one destination, far above the usual."""
        post = self.rng.choice(_AIRPORTS)
        abroad = self.rng.choice(ABROAD)
        monday = dt.datetime.combine(begin.date(), dt.time(), dt.UTC)
        monday -= dt.timedelta(days=monday.weekday())  # a surge fills one calendar week
        out = []
        for _ in range(SURGE_SIZE):
            woman = self._person((18, 24), "F")
            at = monday + dt.timedelta(days=7 * self.rng.random())
            trip = _Trip(
                at, self.rng.choice([p for p in _AIRPORTS if p.country == post.country]), tag
            )
            trip.add(_icao(woman), self._document(woman))
            out += trip.appearances(self.rng, abroad)
        return out
