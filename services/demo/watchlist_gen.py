"""The demo watchlist: synthetic red and yellow notices, diffusions, blue notices and SLTD.

Pure and seeded: the same seed and date give the same entries. Every entry validates as a
``schemas.watchlist.WatchlistEntry``. Person entries keep a Latin spelling (as the issuer's
passports write it) and, most of the time, the Cyrillic original too; some are restricted to
the issuer and a neighbour or two.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from schemas.watchlist import WatchlistEntry
from services.demo.names import Standard
from services.demo.traveller import (
    NATIONALITIES,
    Person,
    make_person,
    passport_number,
    passport_standard,
    written,
)

# list, action, entry id prefix, share of person entries
_PERSON_LISTS = (
    ("red_notice", "arrest", "RED", 0.45),
    ("yellow_notice", "protect", "YEL", 0.15),
    ("diffusion", "arrest", "DIF", 0.2),
    ("diffusion", "locate", "DIF", 0.1),
    ("blue_notice", "locate", "BLU", 0.1),
)
_SLTD_STATUSES = (("stolen", 0.5), ("lost", 0.35), ("revoked", 0.1), ("stolen_blank", 0.05))
RESTRICTED_SHARE = 0.15
# Partner countries that may see a restricted entry besides its issuer.
_NEIGHBOURS = {
    "UZB": ("KAZ", "KGZ", "TJK", "TKM"),
    "KAZ": ("UZB", "KGZ", "RUS"),
    "KGZ": ("KAZ", "UZB", "TJK"),
    "TJK": ("UZB", "KGZ"),
    "TKM": ("UZB", "KAZ"),
    "RUS": ("KAZ", "UZB", "KGZ", "TJK"),
}


@dataclass(frozen=True)
class WatchlistSpec:
    persons: int = 2000
    sltd: int = 5000
    seed: int = 7
    today: dt.date = dt.date(2026, 1, 1)


def _dissemination(rng: random.Random, issuer: str) -> dict[str, list[str]] | None:
    if rng.random() >= RESTRICTED_SHARE:
        return None
    partners = rng.sample(_NEIGHBOURS[issuer], k=min(2, len(_NEIGHBOURS[issuer])))
    return {"restricted_to": sorted({issuer, *partners})}


def _birth(rng: random.Random, person: Person) -> str:
    roll = rng.random()
    iso = person.date_of_birth.isoformat()
    if roll < 0.1:
        return iso[:4]  # only the year is known
    if roll < 0.15:
        return iso[:7]
    return iso


def _names(rng: random.Random, person: Person) -> list[dict[str, str]]:
    standard = passport_standard(rng, person.nationality)
    forms = [written(person, standard)]
    if rng.random() < 0.6:
        forms.append(written(person, Standard.CYRILLIC))
    out = []
    for form in forms:
        name = {"surname": form.surname, "given_names": form.given_names}
        if form.patronymic:
            name["patronymic"] = form.patronymic
        out.append(name)
    return out


def person_entry(rng: random.Random, number: int, spec: WatchlistSpec) -> dict[str, Any]:
    kinds = _PERSON_LISTS
    kind, action, prefix, _ = rng.choices(kinds, weights=[k[3] for k in kinds])[0]
    person = make_person(rng, rng.choice(NATIONALITIES), spec.today)
    issuer = person.nationality if rng.random() < 0.7 else rng.choice(NATIONALITIES)
    record: dict[str, Any] = {
        "names": _names(rng, person),
        "date_of_birth": _birth(rng, person),
        "sex": person.sex,
        "nationalities": [person.nationality],
    }
    if rng.random() < 0.5:
        document = passport_number(rng, person.nationality)
        record["documents"] = [
            {"number": document, "issuing_state": person.nationality, "type": "P"}
        ]
    return {
        "entry_id": f"{prefix}-{spec.today.year}-{number:06d}",
        "list": kind,
        "status": "active",
        "issuer": issuer,
        "action": action,
        "dissemination": _dissemination(rng, issuer),
        "person": record,
    }


def sltd_entry(rng: random.Random, number: int) -> dict[str, Any]:
    state = rng.choice(NATIONALITIES)
    status = rng.choices([s for s, _ in _SLTD_STATUSES], weights=[w for _, w in _SLTD_STATUSES])
    return {
        "entry_id": f"DOC-{state}-{number:06d}",
        "list": "sltd",
        "status": "active",
        "issuer": state,
        "action": "seize_document",
        "document": {
            "number": passport_number(rng, state),
            "issuing_state": state,
            "type": "P",
            "status": status[0],
        },
    }


def generate(spec: WatchlistSpec) -> list[dict[str, Any]]:
    """Every entry of the demo watchlist, validated against the contract."""
    rng = random.Random(spec.seed)  # noqa: S311 - seeded on purpose: the demo must repeat
    entries = [person_entry(rng, n, spec) for n in range(1, spec.persons + 1)]
    entries += [sltd_entry(rng, n) for n in range(1, spec.sltd + 1)]
    for entry in entries:
        WatchlistEntry.model_validate(entry)
    return entries
