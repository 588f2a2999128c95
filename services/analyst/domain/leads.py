"""From what a pattern found to a Lead: one lead per pattern and anchor, updated, never doubled.

A pattern names its finding by an anchor (the pseudonymous keys of the subjects that define
it: the escort, the document, the person and the listed entry); the lead id is derived from
the pattern and the anchor, so more evidence about the same subjects updates the same lead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from schemas.lead import (
    MAX_EVIDENCE,
    Aggregate,
    EvidenceItem,
    Lead,
    Pattern,
    Subject,
    SubjectDocument,
    SubjectPerson,
    lead_id_for,
)
from schemas.watchlist import Dissemination
from services.analyst.domain.identity import Identity
from services.analyst.domain.sighting import Sighting


@dataclass(frozen=True)
class SubjectRef:
    role: str
    identity: Identity | None = None
    document: tuple[str, str] | None = None  # number, issuing state as presented
    entry_id: str | None = None

    def subject(self) -> Subject:
        person = None
        if self.identity is not None:
            i = self.identity
            person = SubjectPerson(
                surname=i.surname,
                given_names=i.given_names,
                date_of_birth=i.date_of_birth,
                sex=i.sex,
                nationality=i.nationality,
            )
        document = None
        if self.document is not None:
            document = SubjectDocument(number=self.document[0], issuing_state=self.document[1])
        return Subject(role=self.role, traveller=person, document=document, entry_id=self.entry_id)


@dataclass(frozen=True)
class Proof:
    """One piece of evidence: an event and, in plain words, why it counts; and, for the link
    chart, whose event it is (an index into the finding's subjects) and the document, party,
    trip and country it shows them with."""

    event_id: str
    at: dt.datetime
    why: str
    subject: int | None = None
    document: tuple[str, str] | None = None  # number, issuing state as presented
    party: str | None = None
    transport: str | None = None
    country: str | None = None

    @classmethod
    def of(cls, s: Sighting, why: str, subject: int) -> Proof:
        """The event of ``s``, the person ``subject`` of the finding."""
        return cls(
            s.event_id, s.at, why, subject, s.document_shown, s.party_label, s.trip_label,
            s.country,
        )  # fmt: skip


@dataclass
class Finding:
    pattern: Pattern
    anchor: tuple[str, ...]
    score: float
    country: str
    at: dt.datetime  # the event that completed or grew the pattern
    summary: str
    evidence: list[Proof]
    subjects: list[SubjectRef] = field(default_factory=list)
    aggregate: Aggregate | None = None
    restricted_to: tuple[str, ...] | None = None


def _evidence(old: list[EvidenceItem], new: list[Proof]) -> list[EvidenceItem]:
    """Earlier evidence kept as it was explained; new events added; in time order, capped."""
    known = {item.event_id for item in old}
    added = [_item(p) for p in new if p.event_id not in known]
    merged = sorted([*old, *added], key=lambda e: (e.occurred_at or dt.datetime.min, e.event_id))
    return merged[:MAX_EVIDENCE]


def _item(p: Proof) -> EvidenceItem:
    document = None
    if p.document is not None:
        document = SubjectDocument(number=p.document[0], issuing_state=p.document[1])
    return EvidenceItem(
        event_id=p.event_id, why=p.why[:2000], occurred_at=p.at, subject=p.subject,
        document=document, party=p.party, transport=p.transport, country=p.country,
    )  # fmt: skip


class LeadBook:
    """Every lead by id, in its latest state."""

    def __init__(self) -> None:
        self.leads: dict[str, Lead] = {}

    def upsert(self, finding: Finding) -> Lead | None:
        """The lead as it now stands, or None when the finding adds nothing to it."""
        lead_id = lead_id_for(finding.pattern.value, finding.anchor)
        old = self.leads.get(lead_id)
        evidence = _evidence(old.evidence if old else [], finding.evidence)
        score = round(max(finding.score, old.score if old else 0.0), 3)
        if (
            old is not None
            and len(evidence) == len(old.evidence)
            and score == old.score
            and finding.summary == old.summary
        ):
            return None
        dissemination = None
        if finding.restricted_to is not None:
            dissemination = Dissemination(restricted_to=sorted(set(finding.restricted_to)))
        lead = Lead(
            lead_id=lead_id,
            pattern=finding.pattern,
            score=min(score, 1.0),
            created_at=old.created_at if old else finding.at,
            updated_at=finding.at,
            country=finding.country,
            subjects=[s.subject() for s in finding.subjects],
            evidence=evidence,
            summary=finding.summary,
            aggregate=finding.aggregate,
            dissemination=dissemination,
        )
        self.leads[lead_id] = lead
        return lead
