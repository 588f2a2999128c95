"""Travellers taken from the watchlist: a listed person under another spelling, or a stranger
carrying a listed stolen or lost document.

Only entries that the post's country may see are drawn (dissemination), so each listed
traveller is one the relay must alert on in that country.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from schemas.common import partial_date_parts
from schemas.watchlist import ListKind, PersonName, WatchlistEntry
from services.demo.names import Standard, write
from services.demo.posts import COUNTRIES
from services.demo.traveller import LATIN_STANDARDS, Holder, Written
from services.matcher.domain.transliterate import is_cyrillic


@dataclass(frozen=True)
class Pick:
    entry: WatchlistEntry

    @property
    def is_document(self) -> bool:
        return self.entry.list is ListKind.SLTD


class ListedPicker:
    """Active entries by the countries allowed to see them."""

    def __init__(self, raw_entries: list[dict[str, Any]]) -> None:
        self.persons: dict[str, list[WatchlistEntry]] = defaultdict(list)
        self.documents: dict[str, list[WatchlistEntry]] = defaultdict(list)
        for raw in raw_entries:
            try:
                entry = WatchlistEntry.model_validate(raw)
            except ValidationError:
                continue  # a bad line in a hand-made watchlist: not a traveller we can draw
            if not entry.is_active:
                continue
            target = self.documents if entry.list is ListKind.SLTD else self.persons
            for country in COUNTRIES:
                if entry.may_disseminate_to(country):
                    target[country].append(entry)

    def __bool__(self) -> bool:
        return bool(self.persons) or bool(self.documents)

    def person_entries(self) -> list[WatchlistEntry]:
        """Every active person entry once, in file order."""
        seen: dict[str, WatchlistEntry] = {}
        for entries in self.persons.values():
            for entry in entries:
                seen.setdefault(entry.entry_id, entry)
        return list(seen.values())

    def pick(self, rng: random.Random, country: str) -> Pick | None:
        persons, documents = self.persons.get(country, []), self.documents.get(country, [])
        if not persons and not documents:
            return None
        # half the listed travellers are people, half carry a listed document
        pool = persons if persons and (not documents or rng.random() < 0.5) else documents
        return Pick(pool[rng.randrange(len(pool))])


def _full_birth(rng: random.Random, partial: str | None) -> dt.date:
    if partial is None:
        return dt.date(1970, 1, 1) + dt.timedelta(days=rng.randrange(365 * 35))
    year, month, day = partial_date_parts(partial)
    if month is None:
        return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
    return dt.date(year, month, day or rng.randrange(1, 29))


def _respelt(rng: random.Random, names: list[PersonName], domestic: bool) -> Written:
    """The listed name as another document would write it.

    A Cyrillic form is written in a Latin standard other than the entry's own spellings (or
    kept in Cyrillic on a domestic document); without one, a Latin form is used as listed.
    """
    cyrillic = next((n for n in names if is_cyrillic(n.surname)), None)
    if cyrillic is None:
        name = names[rng.randrange(len(names))]
        return Written(name.surname.upper(), (name.given_names or "").upper(), name.patronymic)
    if domestic:
        return _in(cyrillic, Standard.CYRILLIC)
    listed = {n.surname.upper() for n in names}
    options = list(LATIN_STANDARDS)
    rng.shuffle(options)
    for standard in options:
        form = _in(cyrillic, standard)
        if form.surname not in listed:
            return form
    return _in(cyrillic, options[0])


def _in(name: PersonName, standard: Standard) -> Written:
    patronymic = write(name.patronymic, standard) if name.patronymic else None
    return Written(
        write(name.surname, standard), write(name.given_names or "", standard), patronymic
    )


def listed_holder(rng: random.Random, entry: WatchlistEntry, country: str) -> Holder:
    """The holder data a listed person's document shows at a post of ``country``."""
    person = entry.person
    if person is None:
        raise ValueError("an sltd entry has no person")
    nationality = person.nationalities[0] if person.nationalities else country
    name = _respelt(rng, person.names, domestic=nationality == country and rng.random() < 0.3)
    own = random.Random(entry.entry_id)  # noqa: S311 - one person: one birth date, one sex
    sex = person.sex if person.sex in ("M", "F") else own.choice("MF")
    return Holder(name, sex, _full_birth(own, person.date_of_birth), nationality)
