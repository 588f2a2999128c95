"""``associate_of_listed``: a traveller who keeps travelling beside a wanted person.

Wanted = a strong hit on a red notice or a diffusion. An occasion is one trip together: the
same party, or the same transport number on the same day (one trip even when both hold).
It takes ``min_occasions`` occasions in the window; one in the same party as a minor on a
yellow notice (a missing child) is enough by itself, unless the adult is of the child's family
(the matcher's surname rules): a missing child found with its own family is the alert's
business, a stranger beside it the analyst's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from schemas.lead import Pattern
from schemas.watchlist import ListKind
from services.analyst.domain.groups import Group, Member
from services.analyst.domain.identity import same_family
from services.analyst.domain.leads import Finding, Proof, SubjectRef
from services.analyst.domain.params import AssociateOfListed
from services.analyst.domain.sighting import Hit

WANTED = frozenset({ListKind.RED_NOTICE.value, ListKind.DIFFUSION.value})
MISSING = ListKind.YELLOW_NOTICE.value
STRONG = "strong"


@dataclass(frozen=True)
class Occasion:
    at: dt.datetime
    associate: Member
    listed: Member
    hit: Hit
    how: str  # "in the same party" / "on the same transport the same day"

    @property
    def with_missing_minor(self) -> bool:
        return self.hit.list == MISSING and self.listed.sighting.minor and "party" in self.how


def counts(hit: Hit, listed: Member) -> bool:
    if hit.band != STRONG:
        return False
    return hit.list in WANTED or (hit.list == MISSING and listed.sighting.minor)


def _kin(minor: Member, adult: Member) -> bool:
    return same_family(minor.sighting.identity.surname, adult.sighting.identity.surname)


@dataclass
class Associates:
    params: AssociateOfListed
    hits: dict[str, list[Hit]] = field(default_factory=dict)  # event id -> its hits
    # (associate pid, entry id) -> occasion key -> occasion
    occasions: dict[tuple[str, str], dict[str, Occasion]] = field(default_factory=dict)

    def on_hit(self, hit: Hit) -> None:
        known = self.hits.setdefault(hit.event_id, [])
        if all(h.entry_id != hit.entry_id for h in known):
            known.append(hit)

    def on_join(self, group: Group, member: Member) -> list[Finding]:
        """Pair a new member of the group with its listed members, and the other way round."""
        found = self.on_listed(group, member)
        hits = self.hits  # few travellers have hits: look before building anything
        for listed in group.members:
            if listed.sighting.event_id in hits and listed.pid != member.pid:
                found += self._pairs(listed, [member])
        return found

    def on_listed(self, group: Group, listed: Member) -> list[Finding]:
        """Pair a member (newly known to be listed, or new) with the rest of its group."""
        if listed.sighting.event_id not in self.hits:
            return []
        return self._pairs(listed, group.others(listed))

    def _pairs(self, listed: Member, others: list[Member]) -> list[Finding]:
        found = []
        for hit in self.hits.get(listed.sighting.event_id, []):
            if not counts(hit, listed):
                continue
            for other in others:  # an associate is an adult: a listed parent's child is not
                if other.adult and not self._listed_too(other, hit.entry_id):
                    if hit.list == MISSING and _kin(listed, other):
                        continue  # a missing child beside its own family: the alert's business
                    finding = self._pair(other, listed, hit)
                    if finding is not None:
                        found.append(finding)
        return found

    def forget(self, event_id: str, pid: str, before: dt.datetime) -> None:
        """Forget an event's hits, and the person's occasions from before ``before``."""
        self.hits.pop(event_id, None)
        for key in [k for k in self.occasions if k[0] == pid]:
            kept = {k: o for k, o in self.occasions[key].items() if o.at >= before}
            if kept:
                self.occasions[key] = kept
            else:
                del self.occasions[key]

    def _listed_too(self, member: Member, entry_id: str) -> bool:
        return any(h.entry_id == entry_id for h in self.hits.get(member.sighting.event_id, []))

    def _pair(self, associate: Member, listed: Member, hit: Hit) -> Finding | None:
        a, b = associate.sighting, listed.sighting
        same_trip = a.trip is not None and a.trip == b.trip
        same_party = a.party is not None and a.party == b.party
        if not (same_trip or same_party):
            return None
        key = a.trip if same_trip and a.trip else (a.party or "")
        how = "in the same party" if same_party else "on the same transport the same day"
        if same_party and same_trip:
            how += " and on the same transport"
        at = max(a.at, b.at)
        book = self.occasions.setdefault((associate.pid, hit.entry_id), {})
        book[key] = Occasion(at, associate, listed, hit, how)
        return self._evaluate(book)

    def _evaluate(self, book: dict[str, Occasion]) -> Finding | None:
        window = dt.timedelta(days=self.params.window_days)
        latest = max(o.at for o in book.values())
        recent = sorted((o for o in book.values() if o.at >= latest - window), key=lambda o: o.at)
        missing_minor = any(o.with_missing_minor for o in recent)
        if len(recent) < self.params.min_occasions and not missing_minor:
            return None
        extra = max(len(recent) - self.params.min_occasions, 0)
        score = min(1.0, 0.65 + 0.1 * extra + 0.15 * missing_minor)
        if score < self.params.min_score:
            return None
        return _finding(recent, score)


def _finding(recent: list[Occasion], score: float) -> Finding:
    last = recent[-1]
    hit = last.hit
    wanted = "a missing minor" if hit.list == MISSING else f"a person on a {hit.list}"
    evidence = []
    for n, o in enumerate(recent, start=1):
        why = f"trip {n} of {len(recent)} {o.how} as {wanted} ({hit.entry_id})"
        evidence.append(Proof.of(o.associate.sighting, why, 0))
        why = f"the listed person on trip {n}: {hit.list} {hit.entry_id}"
        evidence.append(Proof.of(o.listed.sighting, why, 1))
    a = last.associate.sighting
    subjects = [
        SubjectRef("associate", a.identity, a.document_shown),
        SubjectRef("listed", last.listed.sighting.identity, entry_id=hit.entry_id),
    ]
    restricted = None
    if hit.restricted_to is not None:
        restricted = tuple(hit.restricted_to) + ((hit.issuer,) if hit.issuer else ())
    summary = f"A traveller travelled with {wanted} {len(recent)} time(s)."
    return Finding(
        Pattern.ASSOCIATE_OF_LISTED, (last.associate.pid, hit.entry_id), score,
        a.country, max(o.at for o in recent), summary, evidence, subjects,
        restricted_to=restricted,
    )  # fmt: skip
