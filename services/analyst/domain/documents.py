"""Documents and identities that do not stay together.

``document_many_identities``: one document (normalised number and issuing state) presented
under identities that the matcher's rules call different people.

``identity_many_documents``: one person presenting several documents in a short time. A
renewal (the old number, then only the new one) is normal; it takes ``min_documents``
documents, or two of one issuing state used in turn (A, then B, then A again), which one
person cannot lawfully hold at once. Each document whose date of birth reads otherwise than the
first's (swapped, 1 January, partial), or whose name has a slip, lowers the score: those
links are namesakes' as often.
"""

from __future__ import annotations

import datetime as dt
from bisect import insort
from dataclasses import dataclass, field

from schemas.lead import Pattern
from services.analyst.domain.identity import Identity, different_people, loosely_same
from services.analyst.domain.leads import Finding, Proof, SubjectRef
from services.analyst.domain.params import DocumentManyIdentities, IdentityManyDocuments
from services.analyst.domain.sighting import Sighting


@dataclass(frozen=True, slots=True)
class Use:
    pid: str
    sighting: Sighting


def _recent(uses: list[Use], days: int) -> list[Use]:
    since = uses[-1].sighting.at - dt.timedelta(days=days)
    if uses[0].sighting.at >= since:
        return uses  # all of them (the list is in time order); callers do not change it
    return [u for u in uses if u.sighting.at >= since]


def _add(uses: dict[str, list[Use]], key: str, use: Use) -> list[Use]:
    """File the use under ``key``, in time order (after those of the same time)."""
    found = uses.get(key)
    if found is None:
        found = uses[key] = [use]
    elif found[-1].sighting.at <= use.sighting.at:
        found.append(use)
    else:
        insort(found, use, key=_time)
    return found


def _time(use: Use) -> dt.datetime:
    return use.sighting.at


def forget_uses(uses: dict[str, list[Use]], key: str | None, before: dt.datetime) -> None:
    """Drop the uses under ``key`` from before ``before`` (each list is in time order)."""
    found = uses.get(key or "")
    if found is None:
        return
    kept = [u for u in found if u.sighting.at >= before]
    if kept:
        uses[key or ""] = kept
    else:
        del uses[key or ""]


def _dob(sighting: Sighting) -> str:
    return sighting.identity.date_of_birth or "unknown"


@dataclass
class DocumentIdentities:
    params: DocumentManyIdentities
    uses: dict[str, list[Use]] = field(default_factory=dict)  # document key -> uses

    def on_sighting(self, pid: str, sighting: Sighting) -> Finding | None:
        if sighting.document is None:
            return None
        uses = _add(self.uses, sighting.document, Use(pid, sighting))
        if len(uses) < self.params.min_identities:
            return None  # fewer uses than the identities it takes
        recent = _recent(uses, self.params.window_days)
        identities: list[Use] = []  # one use per identity, each sure to be another person
        for use in recent:
            if all(
                different_people(use.sighting.identity, i.sighting.identity) for i in identities
            ):
                identities.append(use)
        if len(identities) < self.params.min_identities:
            return None
        return self._finding(recent, identities)

    def _finding(self, recent: list[Use], identities: list[Use]) -> Finding | None:
        countries = {u.sighting.country for u in recent}
        extra = len(identities) - self.params.min_identities
        score = min(1.0, 0.7 + 0.1 * extra + 0.1 * (len(countries) > 1))
        if score < self.params.min_score:
            return None
        evidence = []
        for use in recent:
            number = next(
                n for n, i in enumerate(identities, 1)
                if not different_people(use.sighting.identity, i.sighting.identity)
            )  # fmt: skip
            first = use in identities
            why = (
                f"presented in {use.sighting.country} under identity #{number} of "
                f"{len(identities)} (born {_dob(use.sighting)})" + ("" if first else ", again")
            )
            evidence.append(Proof.of(use.sighting, why, number))  # 0 is the document
        last = recent[-1].sighting
        subjects = [SubjectRef("document", document=last.document_shown)]
        subjects += [SubjectRef("identity", i.sighting.identity) for i in identities]
        days = max((last.at - recent[0].sighting.at).days, 1)
        summary = (
            f"One document was presented under {len(identities)} different identities in "
            f"{len(countries)} countries within {days} days."
        )
        return Finding(
            Pattern.DOCUMENT_MANY_IDENTITIES, (last.document or "",), score, last.country,
            last.at, summary, evidence, subjects,
        )  # fmt: skip


def _in_turn(order: list[str], state_of: dict[str, str]) -> bool:
    """Two documents of one issuing state used in turn: A, B, then A again."""
    if len(state_of) < 2:
        return False  # one document: nothing to take turns with
    for i, first in enumerate(order):
        later = order[i + 1 :]
        for j, second in enumerate(later):
            if second != first and state_of[second] == state_of[first] and first in later[j:]:
                return True
    return False


# A document whose holder is the person only by the matcher's tolerance (``loosely_same``:
# another reading of the date of birth, a slip in the name) weakens the lead: passports of one
# holder print one date and one name, and namesakes differ in just these ways.
LOOSE = 0.15


def _loose_links(recent: list[Use], documents: list[str]) -> set[str]:
    """Documents whose first use names the holder only loosely like the first document's."""
    first: dict[str, Identity] = {}
    for use in recent:
        first.setdefault(use.sighting.document or "", use.sighting.identity)
    holder = first[documents[0]]
    return {key for key in documents[1:] if loosely_same(first[key], holder)}


@dataclass
class IdentityDocuments:
    params: IdentityManyDocuments
    uses: dict[str, list[Use]] = field(default_factory=dict)  # person -> uses

    def on_sighting(self, pid: str, sighting: Sighting) -> Finding | None:
        if sighting.document is None or sighting.document_shown is None:
            return None
        uses = _add(self.uses, pid, Use(pid, sighting))
        if len(uses) < min(self.params.min_documents, 3):
            return None  # too few uses for enough documents, or for two taking turns (A B A)
        recent = _recent(uses, self.params.window_days)
        order = [u.sighting.document or "" for u in recent]
        state_of = {
            u.sighting.document or "": u.sighting.document_shown[1]
            for u in recent
            if u.sighting.document_shown
        }
        documents = list(dict.fromkeys(order))
        loose = _loose_links(recent, documents)
        firm = [key for key in order if key not in loose]
        in_turn = _in_turn(firm, state_of)  # a loosely linked document may be a namesake's
        if len(documents) < self.params.min_documents and not in_turn:
            return None
        states = set(state_of.values())
        extra = max(len(documents) - self.params.min_documents, 0)
        score = 0.65 + 0.1 * extra + 0.1 * (len(states) > 1) + 0.1 * in_turn - LOOSE * len(loose)
        score = min(1.0, score)
        if score < self.params.min_score:
            return None
        return self._finding(recent, documents, score, in_turn)

    def _finding(
        self, recent: list[Use], documents: list[str], score: float, in_turn: bool
    ) -> Finding:
        last = recent[-1].sighting
        days = max((last.at - recent[0].sighting.at).days, 1)
        evidence, subjects = [], [SubjectRef("person", last.identity)]
        for use in recent:
            s = use.sighting
            number = documents.index(s.document or "") + 1
            state = s.document_shown[1] if s.document_shown else "?"
            why = f"presented document #{number} of {len(documents)} ({state}) in {s.country}"
            evidence.append(Proof.of(s, why, 0))
        for key in documents:
            shown = next(u.sighting.document_shown for u in recent if u.sighting.document == key)
            subjects.append(SubjectRef("document", document=shown))
        how = ", two of one state used in turn" if in_turn else ""
        summary = (
            f"One person presented {len(documents)} different documents within {days} days{how}."
        )
        return Finding(
            Pattern.IDENTITY_MANY_DOCUMENTS, (recent[-1].pid,), score, last.country, last.at,
            summary, evidence, subjects,
        )  # fmt: skip
