"""The six patterns over a stream of events (and their watchlist hits), in time order.

Pure: no clock, no I/O. The streaming service and ``relay analyse`` both feed it events and
hits and publish what it returns: each lead that is new or has grown, in its latest state.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable

from schemas.event import Event
from schemas.lead import Lead
from services.analyst.domain.documents import DocumentIdentities, IdentityDocuments, forget_uses
from services.analyst.domain.escort import MinorCrossings, SerialEscorts
from services.analyst.domain.groups import Groups, Member
from services.analyst.domain.identity import Registry
from services.analyst.domain.leads import Finding, LeadBook
from services.analyst.domain.listed import Associates
from services.analyst.domain.params import Params
from services.analyst.domain.pseudonym import Pseudonymiser
from services.analyst.domain.sighting import Hit, sighting_of
from services.analyst.domain.surge import Surges


class Analyser:
    def __init__(self, params: Params, key: bytes) -> None:
        self.params = params
        self.pseudo = Pseudonymiser(key)
        self.registry = Registry(self.pseudo)
        self.groups = Groups()
        self.members: dict[str, Member] = {}  # event id -> who it was, for late hits
        self._order: deque[Member] = deque()  # in arrival order: the purge takes the oldest
        self.book = LeadBook()
        self.escorts = SerialEscorts(params.serial_escort)
        self.minors = MinorCrossings(params.minor_repeated_crossings)
        self.associates = Associates(params.associate_of_listed)
        self.document_identities = DocumentIdentities(params.document_many_identities)
        self.identity_documents = IdentityDocuments(params.identity_many_documents)
        self.surges = Surges(params.flow_surge)
        self._purged: dt.datetime | None = None

    @property
    def leads(self) -> dict[str, Lead]:
        return self.book.leads

    def observe(self, event: Event, hits: Iterable[Hit] = ()) -> list[Lead]:
        """One event (and the hits it raised); the leads it created or grew."""
        if event.event_id in self.members:
            return []  # the same event again (a redelivery) adds nothing
        s = sighting_of(event, self.pseudo)
        person = self.registry.resolve(s.identity, s.document, s.at)
        member = self.members[s.event_id] = Member(person.pid, s)
        self._order.append(member)
        for hit in hits:
            self.associates.on_hit(hit)
        found: list[Finding | None] = [
            self.document_identities.on_sighting(person.pid, s),
            self.identity_documents.on_sighting(person.pid, s),
            self.surges.on_sighting(s),
        ]
        joined = self.groups.join(member)
        party = self.groups.parties.get(s.party) if s.party else None
        if party is not None and s.crossing:
            found += self.escorts.on_party(party)
            found += self.minors.on_party(party)
        if member.sighting.minor and s.crossing:
            found.append(self.minors.on_minor(member, party))
        for group in joined:
            found += self.associates.on_join(group, member)
        return self._publish(found)

    def observe_hit(self, hit: Hit) -> list[Lead]:
        """A hit that arrives after its event (an alert from the matcher)."""
        self.associates.on_hit(hit)
        member = self.members.get(hit.event_id)
        if member is None:
            return []
        found: list[Finding | None] = []
        for group in self.groups.of(member.sighting):
            found += self.associates.on_listed(group, member)
        return self._publish(found)

    def _publish(self, found: list[Finding | None]) -> list[Lead]:
        out: dict[str, Lead] = {}
        for finding in found:
            if finding is not None:
                lead = self.book.upsert(finding)
                if lead is not None:
                    out[lead.lead_id] = lead
        return list(out.values())

    def tick(self, now: dt.datetime) -> None:
        """Purge once ``purge_every`` has passed since the last purge (or the first tick)."""
        if self._purged is None:
            self._purged = now
        elif now - self._purged >= self.params.purge_every:
            self.purge(now)

    def purge(self, now: dt.datetime) -> None:
        """Forget everything seen before the retention window (the leads stay).

        Sightings leave in arrival order: one that arrived late, with an old time, leaves
        when those that arrived before it have left."""
        self._purged = now
        before = now - self.params.retention
        while self._order and self._order[0].sighting.at < before:
            self._forget(self._order.popleft(), before)
        self.surges.purge(before)

    def _forget(self, member: Member, before: dt.datetime) -> None:
        s = member.sighting
        self.members.pop(s.event_id, None)
        self.registry.forget(member.pid, before)
        self.groups.forget(s, before)
        self.escorts.forget(member.pid, before)
        self.minors.forget(member.pid, before)
        self.associates.forget(s.event_id, member.pid, before)
        forget_uses(self.document_identities.uses, s.document, before)
        forget_uses(self.identity_documents.uses, member.pid, before)
