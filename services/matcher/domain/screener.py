"""Screening one event against the index: document hits first, then name candidates.

An event is screened under its typed name and, when the two differ, under its MRZ's name too;
each entry keeps the better of the two matches (see mrz.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from schemas.alert import How
from services.matcher.domain import dates
from services.matcher.domain.documents import normalise_number
from services.matcher.domain.explain import Evidence
from services.matcher.domain.index import DocumentHolder, WatchlistIndex, name_tokens
from services.matcher.domain.mrz import check_digit_note, mrz_tokens, name_note
from services.matcher.domain.names import (
    GIVEN,
    PATRONYMIC,
    SURNAME,
    NameMatch,
    Token,
    compare_names,
    tokenise,
)
from services.matcher.domain.records import (
    DocumentRef,
    EventRecord,
    PersonRecord,
    event_record,
    timestamp_text,
)
from services.matcher.domain.score import (
    DOCUMENT,
    PERSON,
    STRONG,
    Match,
    PersonEvidence,
    agreement,
    day_of,
    person_band,
    urgency,
)

_OTHER_TYPE_SCORE = 0.95


class _Names(NamedTuple):
    """The names an event is screened under."""

    typed: tuple[Token, ...]
    mrz: tuple[Token, ...] | None  # the MRZ's name, only when it differs from the typed one

    def each(self) -> Iterator[tuple[tuple[Token, ...], bool]]:
        """(tokens, from the MRZ), the typed name first: it wins a tie."""
        yield self.typed, False
        if self.mrz is not None:
            yield self.mrz, True


def _names(record: EventRecord) -> _Names:
    typed = (
        tokenise(record.surname, SURNAME)
        + tokenise(record.given_names, GIVEN)
        + tokenise(record.patronymic, PATRONYMIC)
    )
    return _Names(typed, mrz_tokens(record, typed))


def _better(match: Match, than: Match | None) -> bool:
    return than is None or (match.band == STRONG, match.score) > (than.band == STRONG, than.score)


class Screener:
    """Screens events against a ``WatchlistIndex``; holds no state of its own."""

    def __init__(self, index: WatchlistIndex) -> None:
        self.index = index

    def screen(self, event: EventRecord | Mapping[str, Any] | Any) -> list[Match]:
        """Every entry the event matches, best first; at most one match per entry."""
        record = event if isinstance(event, EventRecord) else event_record(event)
        return self._screen(record, _names(record))

    def screen_many(self, records: Sequence[EventRecord]) -> list[list[Match]]:
        """``screen`` of each event, with the names of them all looked up first in one go."""
        names = [_names(record) for record in records]
        self.index.prepare(token for each in names for tokens, _ in each.each() for token in tokens)
        return [self._screen(record, each) for record, each in zip(records, names, strict=True)]

    def _screen(self, record: EventRecord, names: _Names) -> list[Match]:
        found: dict[str, Match] = {}
        for holder in self.index.by_document(record.document):
            found[holder.entry_id] = self._document_match(record, names, holder)
        for person in self._candidates(names):
            if person.entry_id not in found:
                best: Match | None = None
                for tokens, from_mrz in names.each():
                    match = self._person_match(record, tokens, person, from_mrz)
                    if match is not None and _better(match, best):
                        best = match
                if best is not None:
                    found[person.entry_id] = best
        if found and record.mrz is not None:
            note = check_digit_note(record)
            if note is not None:  # every alert of the event says its MRZ does not add up
                for entry_id, match in found.items():
                    found[entry_id] = dataclasses.replace(match, evidence=(*match.evidence, note))
        return sorted(found.values(), key=lambda m: (-m.score, m.entry_id))

    def _candidates(self, names: _Names) -> list[PersonRecord]:
        people = self.index.candidates(names.typed)
        if names.mrz is None:
            return people
        seen = {person.entry_id for person in people}
        extra = [p for p in self.index.candidates(names.mrz) if p.entry_id not in seen]
        return people + extra

    def _person_match(
        self, event: EventRecord, tokens: tuple[Token, ...], person: PersonRecord, from_mrz: bool
    ) -> Match | None:
        dob = dates.compare(event.date_of_birth, person.date_of_birth)
        if dob.contradicts:  # ruled out whatever the name says: spare comparing it
            return None
        name = best_name(tokens, person)
        if name is None:
            return None
        nationality = agreement(event.nationality, person.nationalities)
        sex = agreement(event.sex, (person.sex,) if person.sex else ())
        score, band = person_band(
            PersonEvidence(
                name.score, dob, nationality[0], sex[0], name.fuzzy, name.weakest, name.gender_form
            )
        )
        if band is None:
            return None
        evidence = (
            *((name_note(tokens, name.score),) if from_mrz else ()),
            *name.evidence,
            Evidence(
                "date_of_birth", event.date_of_birth, person.date_of_birth, dob.how, dob.score
            ),
            Evidence(
                "nationality",
                event.nationality,
                _join(person.nationalities),
                nationality[1],
                nationality[0],
            ),
            Evidence("sex", event.sex, person.sex, sex[1], sex[0]),
        )
        return _match(event, person, (PERSON, band, score), evidence)

    def _document_match(self, event: EventRecord, names: _Names, holder: DocumentHolder) -> Match:
        """A listed document presented: strong whatever the name says."""
        assert event.document is not None  # a holder was found by it
        listed = _listed_document(holder, event.document)
        same_type = not (event.document.type and listed.type) or event.document.type == listed.type
        evidence = [
            Evidence(
                "document_number",
                event.document.number,
                listed.number,
                _number_how(event.document, listed),
                1.0,
            ),
            Evidence(
                "issuing_state", event.document.issuing_state, listed.issuing_state, How.EXACT, 1.0
            ),
            Evidence(
                "document_type",
                event.document.type,
                listed.type,
                How.SAME if same_type else How.DIFFERENT,
                1.0 if same_type else 0.0,
            ),
        ]
        if isinstance(holder, PersonRecord):
            evidence += _name_note(names, holder)
        score = 1.0 if same_type else _OTHER_TYPE_SCORE
        return _match(event, holder, (DOCUMENT, STRONG, score), tuple(evidence))


def best_name(tokens: tuple[Token, ...], person: PersonRecord) -> NameMatch | None:
    best: NameMatch | None = None
    for form in person.names:
        match = compare_names(tokens, name_tokens(form))
        if match is not None and (best is None or match.score > best.score):
            best = match
    return best


def _name_note(names: _Names, person: PersonRecord) -> list[Evidence]:
    """How the presenter's name compares with the listed holder's (typed or MRZ, the better)."""
    best: tuple[NameMatch, list[Evidence]] | None = None
    for tokens, from_mrz in names.each():
        name = best_name(tokens, person)
        if name is not None and (best is None or name.score > best[0].score):
            best = (name, [name_note(tokens, name.score)] if from_mrz else [])
    if best is not None:
        return [*best[1], *best[0].evidence]
    event_name = " ".join(t.raw for t in names.typed) or None
    entry = person.names[0] if person.names else None
    entry_name = " ".join(p for p in (entry.surname, entry.given_names) if p) if entry else None
    return [Evidence("name", event_name, entry_name, How.DIFFERENT, 0.0)]


def _listed_document(holder: DocumentHolder, presented: DocumentRef) -> DocumentRef:
    if isinstance(holder, PersonRecord):
        wanted = normalise_number(presented.number)
        for document in holder.documents:
            if normalise_number(document.number) == wanted:
                return document
    else:
        return holder.document
    return presented


def _number_how(event_document: DocumentRef, listed: DocumentRef) -> How:
    return How.EXACT if event_document.number == listed.number else How.SAME_NUMBER_OTHER_FORMAT


def _match(
    event: EventRecord,
    holder: DocumentHolder,
    verdict: tuple[str, str, float],
    evidence: tuple[Evidence, ...],
) -> Match:
    kind, band, score = verdict
    dob = (
        holder.date_of_birth if isinstance(holder, PersonRecord) else None
    ) or event.date_of_birth
    occurred_at = timestamp_text(event.occurred_at)
    minor = dates.is_minor(dob, day_of(occurred_at)) if holder.list == "yellow_notice" else None
    return Match(
        event_id=event.event_id,
        entry_id=holder.entry_id,
        list=holder.list,
        kind=kind,
        band=band,
        score=score,
        action=holder.action,
        urgency=urgency(holder.list, band, bool(minor)),
        country=event.country,
        issuer=holder.issuer,
        occurred_at=occurred_at,
        evidence=evidence,
        restricted_to=holder.restricted_to,
        subject_minor=minor,
        entry=holder,
    )


def _join(values: tuple[str, ...]) -> str | None:
    return ", ".join(values) or None
