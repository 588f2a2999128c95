"""Minors crossing with adults not of their family: ``serial_escort`` and
``minor_repeated_crossings``.

Family follows the matcher's surname rules (``identity.same_family``): masculine and
feminine forms and other scripts are one family name. A minor is of the family of the party
when any adult of the party bears its family name, so that a mother under her own name, with
the children's father beside her, is not an escort of strangers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from schemas.lead import Pattern
from services.analyst.domain.groups import Group, Member
from services.analyst.domain.identity import same_family
from services.analyst.domain.leads import Finding, Proof, SubjectRef
from services.analyst.domain.params import MinorRepeatedCrossings, SerialEscort


def _kin(minor: Member, adults: list[Member]) -> bool:
    surname = minor.sighting.identity.surname
    return any(same_family(surname, a.sighting.identity.surname) for a in adults)


@dataclass(frozen=True)
class Trip:
    """One crossing of an adult with the unrelated minors of its party."""

    at: dt.datetime
    escort: Member
    minors: tuple[Member, ...]
    consent_missing: bool


@dataclass
class SerialEscorts:
    params: SerialEscort
    trips: dict[str, dict[str, Trip]] = field(default_factory=dict)  # adult pid -> party -> trip

    def on_party(self, party: Group) -> list[Finding]:
        adults = [m for m in party.members if m.adult and m.sighting.crossing]
        minors = [m for m in party.members if not m.adult]
        unrelated = tuple(m for m in minors if not _kin(m, adults))
        found = []
        for adult in adults:
            if not unrelated:
                self.trips.get(adult.pid, {}).pop(party.key, None)  # a parent arrived after
                continue
            missing = any(m.sighting.consent_missing for m in unrelated)
            trip = Trip(adult.sighting.at, adult, unrelated, missing)
            self.trips.setdefault(adult.pid, {})[party.key] = trip
            finding = self._evaluate(adult.pid)
            if finding is not None:
                found.append(finding)
        return found

    def forget(self, pid: str, before: dt.datetime) -> None:
        kept = {k: t for k, t in self.trips.get(pid, {}).items() if t.at >= before}
        if kept:
            self.trips[pid] = kept
        else:
            self.trips.pop(pid, None)

    def _evaluate(self, pid: str) -> Finding | None:
        trips = sorted(self.trips.get(pid, {}).values(), key=lambda t: t.at)
        window = dt.timedelta(days=self.params.window_days)
        trips = [t for t in trips if t.at >= trips[-1].at - window]
        seen: set[str] = set()
        counted: list[Trip] = []
        for trip in trips:
            new = {m.pid for m in trip.minors} - seen
            if new:
                counted.append(trip)
                seen |= new
        if len(counted) < self.params.min_crossings:
            return None
        return self._finding(counted, len(seen))

    def _finding(self, counted: list[Trip], minors: int) -> Finding | None:
        last = counted[-1]
        missing = any(t.consent_missing for t in counted)
        guardian = any(t.escort.sighting.guardian for t in counted)
        extra = len(counted) - self.params.min_crossings
        score = min(1.0, 0.6 + 0.1 * extra + 0.15 * missing + 0.1 * guardian)
        if score < self.params.min_score:
            return None
        days = max((last.at - counted[0].at).days, 1)
        evidence: list[Proof] = []
        subjects = [SubjectRef("escort", last.escort.sighting.identity,
                               last.escort.sighting.document_shown)]  # fmt: skip
        named: list[str] = []  # minors in the order met: #1, #2...
        for number, trip in enumerate(counted, start=1):
            role = "as the declared guardian " if trip.escort.sighting.guardian else ""
            why = (
                f"crossing {number} of {len(counted)} in {days} days {role}with "
                f"{len(trip.minors)} minor(s) not of the adult's family"
            )
            evidence.append(Proof.of(trip.escort.sighting, why, 0))
            for minor in trip.minors:
                if minor.pid not in named:
                    named.append(minor.pid)
                    subjects.append(SubjectRef("minor", minor.sighting.identity))
                consent = "; no parental consent shown" if minor.sighting.consent_missing else ""
                n = named.index(minor.pid) + 1
                why = f"minor #{n}: family name differs from the escort's{consent}"
                evidence.append(Proof.of(minor.sighting, why, n))
        summary = (
            f"One adult crossed with {minors} different minors not of their family on "
            f"{len(counted)} separate crossings in {days} days"
            + (", at least once without a parental consent shown." if missing else ".")
        )
        return Finding(
            Pattern.SERIAL_ESCORT, (last.escort.pid,), score, last.escort.sighting.country,
            last.at, summary, evidence, subjects,
        )  # fmt: skip


@dataclass(frozen=True)
class MinorTrip:
    minor: Member
    party: Group | None


@dataclass
class MinorCrossings:
    params: MinorRepeatedCrossings
    trips: dict[str, dict[str, MinorTrip]] = field(default_factory=dict)  # minor pid -> trips

    def on_minor(self, minor: Member, party: Group | None) -> Finding | None:
        key = party.key if party is not None else minor.sighting.event_id
        self.trips.setdefault(minor.pid, {})[key] = MinorTrip(minor, party)
        return self._evaluate(minor.pid)

    def on_party(self, party: Group) -> list[Finding]:
        found = []
        for member in party.members:
            if not member.adult and member.pid in self.trips:
                finding = self._evaluate(member.pid)
                if finding is not None:
                    found.append(finding)
        return found

    def forget(self, pid: str, before: dt.datetime) -> None:
        trips = self.trips.get(pid, {})
        kept = {k: t for k, t in trips.items() if t.minor.sighting.at >= before}
        if kept:
            self.trips[pid] = kept
        else:
            self.trips.pop(pid, None)

    def _counted(self, trip: MinorTrip) -> tuple[str, ...] | None:
        """The unrelated adults of a crossing (empty: alone); None when it does not count."""
        if trip.party is None:
            return ()
        if not trip.party.complete:
            return None  # the rest of the party may yet arrive
        adults = [m for m in trip.party.members if m.adult]
        if not adults and not any(m.sighting.party_size for m in trip.party.members):
            return None  # no adult yet, and no size to say none will come
        if _kin(trip.minor, adults):
            return None
        return tuple(sorted({a.pid for a in adults}))

    def _evaluate(self, pid: str) -> Finding | None:
        trips = sorted(self.trips[pid].values(), key=lambda t: t.minor.sighting.at)
        window = dt.timedelta(days=self.params.window_days)
        latest = trips[-1].minor.sighting.at
        counted = []
        for trip in trips:
            if trip.minor.sighting.at < latest - window or not trip.minor.sighting.crossing:
                continue
            companions = self._counted(trip)
            if companions is not None:
                counted.append((trip, companions))
        distinct = {c for _, c in counted}
        if len(counted) < self.params.min_crossings:
            return None
        if len(distinct) == 1 and () not in distinct:
            return None  # always beside the same adults: not "different adults"
        return self._finding(counted)

    def _finding(self, counted: list[tuple[MinorTrip, tuple[str, ...]]]) -> Finding | None:
        alone = sum(1 for _, c in counted if not c)
        extra = len(counted) - self.params.min_crossings
        score = min(1.0, 0.6 + 0.1 * extra + 0.1 * (alone > 0))
        if score < self.params.min_score:
            return None
        first, last = counted[0][0].minor.sighting, counted[-1][0].minor.sighting
        days = max((last.at - first.at).days, 1)
        subjects = [SubjectRef("minor", last.identity, last.document_shown)]
        evidence: list[Proof] = []
        named = {counted[-1][0].minor.pid: 0}  # person -> index in subjects
        for number, (trip, companions) in enumerate(counted, start=1):
            how = "alone" if not companions else "with adult(s) not of the minor's family"
            why = f"crossing {number} of {len(counted)} in {days} days, {how}"
            evidence.append(Proof.of(trip.minor.sighting, why, 0))
            for adult in (m for m in (trip.party.members if trip.party else []) if m.adult):
                if adult.pid not in named:
                    named[adult.pid] = len(subjects)
                    subjects.append(SubjectRef("companion", adult.sighting.identity))
                why = f"adult beside the minor on crossing {number}"
                evidence.append(Proof.of(adult.sighting, why, named[adult.pid]))
        summary = (
            f"A minor crossed {len(counted)} times in {days} days, {alone} time(s) alone and "
            f"{len(counted) - alone} time(s) with adults not of their family."
        )
        pid = counted[-1][0].minor.pid
        return Finding(
            Pattern.MINOR_REPEATED_CROSSINGS, (pid,), score, last.country, last.at, summary,
            evidence, subjects,
        )  # fmt: skip
