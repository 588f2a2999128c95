"""Who is who across events, by the matcher's own name and date rules.

Posts write one person's name in several standards and scripts, sometimes with a slip, and a
date of birth partly or with day and month swapped. Two sightings are the same person when
the matcher's name comparison holds both ways (a gender form is another person) and its date
comparison agrees; they are different people when the names fail, or the dates or sexes
disagree. Between the two lies doubt, which never makes a lead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from schemas.alert import How
from services.analyst.domain.pseudonym import Pseudonymiser
from services.matcher.domain import dates
from services.matcher.domain.names import (
    GIVEN,
    PATRONYMIC,
    SURNAME,
    NameMatch,
    Token,
    compare_names,
    token_similarity,
    tokenise,
)
from services.matcher.domain.transliterate import masculine

SAME_NAME = 0.85  # the matcher's strong name score
SAME_DATE = 0.8  # exact, partial, placeholder or day/month swapped (matcher's dates.py)
OTHER_DATE = 0.5  # below this, two known dates are of two people
MAX_FORMS = 4  # spellings kept per person to compare new sightings with


@dataclass(frozen=True, slots=True)
class Identity:
    """What one event says about its traveller."""

    surname: str
    given_names: str | None = None
    patronymic: str | None = None
    date_of_birth: str | None = None
    sex: str | None = None
    nationality: str | None = None

    # Plain properties over module caches: one spelling's tokens are shared by all its
    # sightings, and nothing is kept on the instance (functools.cached_property takes a lock).
    @property
    def tokens(self) -> tuple[Token, ...]:
        return _tokens(self.surname, self.given_names, self.patronymic)

    @property
    def year(self) -> int | None:
        parts = dates.parse(self.date_of_birth)
        return parts[0] if parts else None


@lru_cache(maxsize=100_000)
def _tokens(surname: str, given_names: str | None, patronymic: str | None) -> tuple[Token, ...]:
    return (
        tokenise(surname, SURNAME) + tokenise(given_names, GIVEN) + tokenise(patronymic, PATRONYMIC)
    )


def _other_father(match: NameMatch) -> bool:
    """Both name a patronymic and the matcher finds no likeness: two fathers, two people (the
    matcher only docks a little for it, since a watchlist entry's patronymic may be stale)."""
    return any(e.field == PATRONYMIC and e.how == How.DIFFERENT for e in match.evidence)


def _holds(match: NameMatch | None) -> bool:
    """One direction of ``same_name``."""
    if match is None or match.gender_form or _other_father(match):
        return False
    return match.score >= SAME_NAME


def same_name(a: Identity, b: Identity) -> bool:
    """The names match both ways; the second way is asked only when the first holds."""
    a_tokens, b_tokens = a.tokens, b.tokens
    return _holds(compare_names(a_tokens, b_tokens)) and _holds(compare_names(b_tokens, a_tokens))


def _sexes_differ(a: Identity, b: Identity) -> bool:
    known = ("M", "F")
    return a.sex in known and b.sex in known and a.sex != b.sex


def same_person(a: Identity, b: Identity) -> bool:
    if _sexes_differ(a, b):
        return False
    date = dates.compare(a.date_of_birth, b.date_of_birth)
    return not date.contradicts and date.score >= SAME_DATE and same_name(a, b)


def _dates_agree(a: Identity, b: Identity) -> bool:
    date = dates.compare(a.date_of_birth, b.date_of_birth)
    return date is dates.UNKNOWN or (not date.contradicts and date.score >= SAME_DATE)


def different_people(a: Identity, b: Identity) -> bool:
    """Sure to be two people: the names fail, or known dates or sexes disagree."""
    if _sexes_differ(a, b):
        return True
    date = dates.compare(a.date_of_birth, b.date_of_birth)
    if date.contradicts or (date is not dates.UNKNOWN and date.score < OTHER_DATE):
        return True
    return not same_name(a, b)


SLIPS = frozenset({How.ONE_EDIT, How.TWO_EDITS, How.SOUNDS_ALIKE})


def loosely_same(a: Identity, b: Identity) -> bool:
    """One person only by the matcher's tolerance: the date read otherwise (day and month
    swapped, 1 January, partial) or a name part with a slip (an edit, a sound-alike). Namesakes
    differ in just these ways; another script or a transliteration standard is no slip."""
    if dates.compare(a.date_of_birth, b.date_of_birth) is not dates.EXACT:
        return True
    match = compare_names(a.tokens, b.tokens)
    return match is None or any(e.how in SLIPS for e in match.evidence)


@lru_cache(maxsize=100_000)
def same_family(a: str, b: str) -> bool:
    """One family name, by the matcher's surname rules (Каримов, KARIMOVA, Karimov)."""
    return any(
        token_similarity(x, y, True)[0] >= SAME_NAME
        for x in tokenise(a, SURNAME)
        for y in tokenise(b, SURNAME)
    )


@lru_cache(maxsize=50_000)
def name_keys(surname: str, given_names: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(surname skeletons in their masculine form, given-name keys): one block for Ivanov and
    Ivanova. Names repeat from sighting to sighting: each is worked out once."""
    stems = [masculine(k) or k for t in tokenise(surname, SURNAME) for k in t.keys]
    givens = [k for t in tokenise(given_names, GIVEN) for k in t.keys]
    return tuple(sorted(set(stems))), tuple(sorted(set(givens)))


_ANY, _VAGUE = "any", "vague"
_Where = tuple[frozenset[str], str, tuple[str, ...]]  # name blocks, own day tag, tags to look


@lru_cache(maxsize=100_000)
def _day_tags(date_of_birth: str | None) -> tuple[str, str, tuple[str, ...]]:
    """(year, the tag an identity is filed under, the tags to look under) by its birth day.

    The dates the matcher calls one person's are of one year: the same day, the day and month
    swapped (one tag: the two sorted), or a partial or 1 January date (``vague``), which may
    stand for any day of the year (``any``: every identity is filed there too).
    """
    parts = dates.parse(date_of_birth)
    if parts is None:
        return "", "", ()
    year, month, day = parts
    if month is None or day is None or (month, day) == (1, 1):
        return str(year), _VAGUE, (_ANY,)
    low, high = sorted((month, day))
    tag = f"{low}-{high}"
    return str(year), tag, (tag, _VAGUE)


@dataclass
class Person:
    pid: str
    forms: list[Identity]
    last_seen: dt.datetime
    documents: set[str] = field(default_factory=set)

    @property
    def shown(self) -> Identity:
        return self.forms[0]

    def matches(self, identity: Identity) -> bool:
        """The same person as one form, and no form's known date against it: a placeholder
        date (1 January) must not chain two namesakes born that year."""
        if not any(same_person(form, identity) for form in self.forms):
            return False
        return all(_dates_agree(form, identity) for form in self.forms)

    def remember(self, identity: Identity, at: dt.datetime) -> bool:
        """Note the sighting; whether its spelling is a new form of the person."""
        self.last_seen = max(self.last_seen, at)
        if len(self.forms) < MAX_FORMS and identity not in self.forms:
            self.forms.append(identity)
            return True
        return False


@dataclass
class Registry:
    """Persons met so far, found again by document or by name block and birth day."""

    pseudo: Pseudonymiser
    persons: dict[str, Person] = field(default_factory=dict)
    # name block (pseudonym) -> birth-day tag -> persons
    _blocks: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    _by_document: dict[str, list[str]] = field(default_factory=dict)
    _names: Callable[[str, str | None, str], frozenset[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # common names come back all the time; a new person asks twice (to look, to file)
        self._names = lru_cache(maxsize=50_000)(self._name_blocks)

    def resolve(self, identity: Identity, document: str | None, at: dt.datetime) -> Person:
        """The person this sighting is of (a new one when nobody matches)."""
        where = self._where(identity)  # to look under, then to file under
        person = self._by_its_document(identity, document) or self._by_name(identity, where)
        if person is None:
            person = self._new(identity, at, where)
        elif person.remember(identity, at):
            self._index(where, person.pid)
        if document is not None:
            person.documents.add(document)
            holders = self._by_document.setdefault(document, [])
            if person.pid not in holders:
                holders.append(person.pid)
        return person

    def _by_its_document(self, identity: Identity, document: str | None) -> Person | None:
        """A holder of the same document whose name is this one and whose date agrees."""
        for pid in self._by_document.get(document or "", []):
            person = self.persons.get(pid)
            if person is None:
                continue
            for form in person.forms:
                date = dates.compare(form.date_of_birth, identity.date_of_birth)
                if not date.contradicts and date.score >= OTHER_DATE and same_name(form, identity):
                    return person
        return None

    def _name_blocks(self, surname: str, given_names: str | None, year: str) -> frozenset[str]:
        stems, givens = name_keys(surname, given_names)
        keys = {self.pseudo("s", stem, year) for stem in stems}
        return frozenset(keys | {self.pseudo("g", given, year) for given in givens})

    def _where(self, identity: Identity) -> _Where:
        """(name blocks, the day tag it is filed under, the day tags to look under)."""
        year, own, looks = _day_tags(identity.date_of_birth)
        if not own:
            return frozenset(), "", ()  # no date of birth: never the same person by name
        return self._names(identity.surname, identity.given_names, year), own, looks

    def _by_name(self, identity: Identity, where: _Where) -> Person | None:
        names, _, looks = where
        seen: set[str] = set()
        blocks, persons = self._blocks, self.persons
        for name in names:
            days = blocks.get(name)
            if days is None:
                continue
            for tag in looks:
                for pid in days.get(tag, ()):
                    if pid in seen:
                        continue
                    seen.add(pid)
                    person = persons.get(pid)
                    if person is not None and person.matches(identity):
                        return person
        return None

    def _new(self, identity: Identity, at: dt.datetime, where: _Where) -> Person:
        stems, givens = name_keys(identity.surname, identity.given_names)
        # met once per person: kept out of the cache of name blocks, which come back
        base = self.pseudo.once("person", *stems, *givens, str(identity.year))
        pid, n = base, 1
        while pid in self.persons:  # a namesake born the same year who is someone else
            n += 1
            pid = f"{base}-{n}"
        person = self.persons[pid] = Person(pid, [identity], at)
        self._index(where, pid, new=True)
        return person

    def _index(self, where: _Where, pid: str, new: bool = False) -> None:
        """File an identity by its name blocks and birth day (``where``), and under ANY too.
        A ``new`` person is in no block yet (``forget`` takes a person out of every block)."""
        names, own, _ = where
        blocks = self._blocks
        for name in names:
            days = blocks.get(name)
            if days is None:
                days = blocks[name] = {}
            for tag in (own, _ANY):
                block = days.get(tag)
                if block is None:
                    days[tag] = [pid]
                elif new or pid not in block:  # a common name's block holds thousands
                    block.append(pid)

    def forget(self, pid: str, before: dt.datetime) -> bool:
        """Forget the person unless seen since ``before``; whether it was forgotten."""
        person = self.persons.get(pid)
        if person is None or person.last_seen >= before:
            return False
        del self.persons[pid]
        for form in person.forms:
            names, own, _ = self._where(form)
            for name in names:
                days = self._blocks.get(name, {})
                for tag in (own, _ANY):
                    _drop(days, tag, pid)
                if not days:
                    self._blocks.pop(name, None)
        for document in person.documents:
            _drop(self._by_document, document, pid)
        return True


def _drop(index: dict[str, list[str]], key: str, pid: str) -> None:
    kept = [p for p in index.get(key, []) if p != pid]
    if kept:
        index[key] = kept
    else:
        index.pop(key, None)
