"""Who crossed together: members of one party, and travellers on one transport on one day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from services.analyst.domain.sighting import Sighting

_EPOCH = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)  # before every event (schemas.event)


@dataclass(frozen=True, slots=True)
class Member:
    pid: str
    sighting: Sighting

    @property
    def adult(self) -> bool:
        return not self.sighting.minor


@dataclass
class Group:
    key: str
    members: list[Member] = field(default_factory=list)
    last: dt.datetime = field(default_factory=lambda: _EPOCH)
    _events: set[str] = field(default_factory=set)  # a flight's day holds hundreds

    def add(self, member: Member) -> bool:
        """Add a member (once per event); whether it was new."""
        if member.sighting.event_id in self._events:
            return False
        self._events.add(member.sighting.event_id)
        self.members.append(member)
        self.last = max(self.last, member.sighting.at)
        return True

    @property
    def complete(self) -> bool:
        """Whether every member the post counted has arrived (unknown size: assume so)."""
        sizes = [m.sighting.party_size for m in self.members if m.sighting.party_size]
        return not sizes or len(self.members) >= max(sizes)

    def others(self, member: Member) -> list[Member]:
        return [m for m in self.members if m.pid != member.pid]


@dataclass
class Groups:
    """Parties by their pseudonymous key, trips (transport number and day) likewise."""

    parties: dict[str, Group] = field(default_factory=dict)
    trips: dict[str, Group] = field(default_factory=dict)

    def join(self, member: Member) -> list[Group]:
        """The groups the member joined now (none when its event was seen before)."""
        joined = []
        for index, key in (
            (self.parties, member.sighting.party),
            (self.trips, member.sighting.trip),
        ):
            if key is None:
                continue
            group = index.setdefault(key, Group(key))
            if group.add(member):
                joined.append(group)
        return joined

    def of(self, sighting: Sighting) -> list[Group]:
        found = [self.parties.get(sighting.party or ""), self.trips.get(sighting.trip or "")]
        return [g for g in found if g is not None]

    def forget(self, sighting: Sighting, before: dt.datetime) -> None:
        """Forget the sighting's groups unless someone joined them since ``before``."""
        for index, key in ((self.parties, sighting.party), (self.trips, sighting.trip)):
            group = index.get(key or "")
            if group is not None and group.last < before:
                del index[key or ""]
