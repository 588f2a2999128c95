"""Travel parties and transport of simulated events: families, groups, and how they travel.

A family is one or two parents with their own children: one surname, in its feminine form for
women and girls (Каримов, Каримова), children's patronymics from the father's name. A group is
adults of different families processed together (colleagues, a tour). Every border crossing
carries the transport of its post's kind; inland checks have none.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from services.demo.names import BOOKS, feminine, patronymic, pick
from services.demo.posts import Kind, Post
from services.demo.traveller import NATIONALITIES, Person

# Where journeys from and to the region go, besides the region itself.
ABROAD = ("TUR", "ARE", "IND", "CHN", "KOR", "DEU", "THA")
_CARRIERS = {"UZB": "HY", "KAZ": "KC", "KGZ": "QH", "TJK": "SZ", "TKM": "T5", "RUS": "SU"}
_RAIL = {"UZB": "UTY", "KAZ": "KTZ", "KGZ": "KTJ", "TJK": "TDT", "TKM": "TDY", "RUS": "RZD"}
_PLATE_LETTERS = "ABCEHKMOPTXY"  # letters plates of the region share with Cyrillic
ADULT_YEARS, CHILD_YEARS = (22, 60), (1, 17)


@dataclass(frozen=True)
class Member:
    person: Person
    guardian: bool = False
    consent: str | None = None  # for a minor: "shown", "not_shown" or None


def party_block(party_id: str, member: Member, size: int) -> dict[str, Any]:
    block: dict[str, Any] = {"id": party_id, "role": "guardian" if member.guardian else "member"}
    return block | {"size": size, "consent": member.consent}


def party_id(rng: random.Random, post: Post, day: dt.date) -> str:
    return f"{post.code}-{day:%Y%m%d}-{rng.randrange(10**6):06d}"


def plate(rng: random.Random) -> str:
    letters = "".join(rng.choice(_PLATE_LETTERS) for _ in range(3))
    return f"{rng.randrange(1, 96):02d}{letters[0]}{rng.randrange(1000):03d}{letters[1:]}"


def transport_for(
    rng: random.Random, post: Post, direction: str | None, abroad: str | None = None
) -> dict[str, Any] | None:
    """How a traveller crosses at ``post``; ``abroad`` fixes the other end of the journey."""
    if post.kind is Kind.INLAND:
        return None
    other = abroad or rng.choice([c for c in (*NATIONALITIES, *ABROAD) if c != post.country])
    origin, destination = (post.country, other) if direction == "exit" else (other, post.country)
    block: dict[str, Any] = {"origin": origin, "destination": destination}
    if post.kind is Kind.AIR:
        carrier = _CARRIERS.get(post.country, "XX")
        number = f"{carrier}{rng.randrange(100, 1000)}"
        return block | {"mode": "air", "carrier": carrier, "number": number}
    if post.kind is Kind.RAIL:
        number = f"{rng.randrange(1, 120):03d}"
        return block | {
            "mode": "rail",
            "carrier": _RAIL.get(post.country, "RAIL"),
            "number": number,
        }
    if rng.random() < 0.1:
        return block | {"mode": "foot"}
    return block | {"mode": "road", "number": plate(rng)}


def birth(rng: random.Random, today: dt.date, years: tuple[int, int]) -> dt.date:
    return today - dt.timedelta(days=rng.randrange(years[0] * 365 + 1, (years[1] + 1) * 365 - 1))


def relative(
    rng: random.Random, head: Person, sex: str, born: dt.date, father: str | None
) -> Person:
    """One of ``head``'s family: the family surname in the form for ``sex``."""
    book = BOOKS[head.nationality]
    base = masculine_form(head.surname)
    surname = feminine(base) if sex == "F" else base
    given = pick(rng, book.female if sex == "F" else book.male)
    middle = patronymic(father, sex) if father else None
    return Person(surname, given, middle, sex, born, head.nationality)


def masculine_form(surname: str) -> str:
    """The inverse of ``names.feminine`` for the surnames the name books hold."""
    if surname.endswith("ая"):
        return surname[:-2] + "ий"
    if surname.endswith(("ова", "ева", "ёва", "ина")):
        return surname[:-1]
    return surname


def stranger(rng: random.Random, nationality: str, sex: str, born: dt.date) -> Person:
    """A person of no family of anyone met so far (surname drawn afresh)."""
    book = BOOKS[nationality]
    surname = pick(rng, book.surnames)
    given = pick(rng, book.female if sex == "F" else book.male)
    middle = patronymic(pick(rng, book.male), sex)
    return Person(
        feminine(surname) if sex == "F" else surname, given, middle, sex, born, nationality
    )


def family(rng: random.Random, nationality: str, today: dt.date) -> list[Member]:
    """A parent (guardian), sometimes the other parent, and one to three own children."""
    father = stranger(rng, nationality, "M", birth(rng, today, (28, 55)))
    both = rng.random() < 0.5
    lead_sex = "M" if both or rng.random() < 0.5 else "F"
    head = father if lead_sex == "M" else relative(rng, father, "F", father.date_of_birth, None)
    members = [Member(head, guardian=True)]
    if both:
        mother = relative(rng, father, "F", birth(rng, today, (26, 50)), None)
        members.append(Member(mother))
    for _ in range(rng.randint(1, 3)):
        sex = rng.choice("MF")
        child = relative(rng, father, sex, birth(rng, today, CHILD_YEARS), father.given_names)
        consent = None if both else ("shown" if rng.random() < 0.95 else "not_shown")
        members.append(Member(child, consent=consent))
    return members


def group(rng: random.Random, nationality: str, today: dt.date) -> list[Member]:
    """Two to five adults of different families: colleagues, friends, a tour."""
    return [
        Member(stranger(rng, nationality, rng.choice("MF"), birth(rng, today, ADULT_YEARS)))
        for _ in range(rng.randint(2, 5))
    ]
