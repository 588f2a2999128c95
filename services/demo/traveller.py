"""Synthetic travellers and their documents, with ICAO 9303 TD3 machine-readable zones.

A person is held in Cyrillic (as a civil register would); a document writes the name the way
its issuing state's passports do (the standard chosen per state, older passports older
standards) and its MRZ holds that spelling folded to A-Z.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from schemas.mrz import check_digit
from services.demo.names import BOOKS, Standard, feminine, mrz_name, patronymic, pick, write

NATIONALITIES = tuple(BOOKS)

# How each state's passports write names, with the share of documents in circulation.
PASSPORT_STANDARDS: dict[str, tuple[tuple[Standard, float], ...]] = {
    "UZB": ((Standard.UZBEK_LATIN, 0.7), (Standard.ICAO, 0.3)),
    "KAZ": ((Standard.ICAO, 0.6), (Standard.KAZAKH_2021, 0.2), (Standard.GOST_52535, 0.2)),
    "KGZ": ((Standard.ICAO, 0.6), (Standard.BGN_PCGN, 0.2), (Standard.MVD_310, 0.2)),
    "TJK": ((Standard.ICAO, 0.5), (Standard.BGN_PCGN, 0.3), (Standard.MVD_310, 0.2)),
    "TKM": ((Standard.TURKMEN_LATIN, 1.0),),
    "RUS": ((Standard.ICAO, 0.6), (Standard.MVD_782, 0.2), (Standard.MVD_310, 0.2)),
}
LATIN_STANDARDS = tuple(s for s in Standard if s is not Standard.CYRILLIC)

# Passport number shapes: letters prefix, digits.
_NUMBER_SHAPES = {
    "UZB": ("FA", 7),
    "KAZ": ("N", 8),
    "KGZ": ("AC", 7),
    "TJK": ("", 9),
    "TKM": ("A", 7),
    "RUS": ("", 9),
}
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Person:
    surname: str  # Cyrillic
    given_names: str
    patronymic: str | None
    sex: str
    date_of_birth: dt.date
    nationality: str


@dataclass(frozen=True)
class Passport:
    number: str
    issuing_state: str
    expiry: dt.date
    standard: Standard


@dataclass(frozen=True)
class Written:
    """A person's name as one document writes it."""

    surname: str
    given_names: str
    patronymic: str | None


def make_person(rng: random.Random, nationality: str, today: dt.date) -> Person:
    book = BOOKS[nationality]
    sex = "F" if rng.random() < 0.45 else "M"
    given = pick(rng, book.female if sex == "F" else book.male)
    surname = pick(rng, book.surnames)
    if sex == "F":
        surname = feminine(surname)
    father = pick(rng, book.male)
    middle = patronymic(father, sex) if nationality == "RUS" or rng.random() < 0.8 else None
    age_days = rng.randrange(2 * 365, 80 * 365)
    return Person(surname, given, middle, sex, today - dt.timedelta(days=age_days), nationality)


def passport_number(rng: random.Random, state: str) -> str:
    prefix, digits = _NUMBER_SHAPES.get(state, ("", 9))
    letters = "".join(rng.choice(_LETTERS) for _ in prefix) if prefix and prefix != "N" else prefix
    return letters + "".join(str(rng.randrange(10)) for _ in range(digits))


class NumberBook:
    """Document numbers issued so far: a simulated state never issues one number twice (drawn
    at random, two of some hundred thousand travellers would share one)."""

    def __init__(self) -> None:
        self._issued: set[str] = set()

    def claim(self, number: str, rng: random.Random, state: str) -> str:
        """``number`` if nobody holds it yet, else a fresh one."""
        while number in self._issued:
            number = passport_number(rng, state)
        self._issued.add(number)
        return number

    def fresh(self, rng: random.Random, state: str) -> str:
        return self.claim(passport_number(rng, state), rng, state)

    def keep(self, number: str) -> str:
        """A number that is drawn again on purpose (a listed person's own passport)."""
        self._issued.add(number)
        return number


def passport_standard(rng: random.Random, state: str) -> Standard:
    options = PASSPORT_STANDARDS.get(state, ((Standard.ICAO, 1.0),))
    return rng.choices([s for s, _ in options], weights=[w for _, w in options])[0]


def make_passport(rng: random.Random, person: Person, today: dt.date) -> Passport:
    issued = today - dt.timedelta(days=rng.randrange(1, 10 * 365))
    expiry = issued + dt.timedelta(days=10 * 365)
    state = person.nationality
    return Passport(passport_number(rng, state), state, expiry, passport_standard(rng, state))


def written(person: Person, standard: Standard) -> Written:
    middle = write(person.patronymic, standard) if person.patronymic else None
    return Written(write(person.surname, standard), write(person.given_names, standard), middle)


def _yymmdd(day: dt.date) -> str:
    return day.strftime("%y%m%d")


def _cd(data: str) -> str:
    digit = check_digit(data)
    if digit is None:  # callers pass A-Z, 0-9 and '<' only
        raise ValueError("not MRZ characters")
    return digit


@dataclass(frozen=True)
class MrzData:
    surname: str  # Latin, as the data page prints it
    given_names: str
    number: str
    issuing_state: str
    nationality: str
    date_of_birth: dt.date
    sex: str
    expiry: dt.date


def td3(data: MrzData) -> list[str]:
    """The two 44-character lines of a passport (ICAO 9303 Part 4), with correct check digits."""
    names = f"{mrz_name(data.surname)}<<{mrz_name(data.given_names)}"
    line1 = f"P<{data.issuing_state}{names}".ljust(44, "<")[:44]
    number = data.number.ljust(9, "<")[:9]
    birth, expiry, personal = _yymmdd(data.date_of_birth), _yymmdd(data.expiry), "<" * 14
    upper = f"{number}{_cd(number)}{data.nationality}{birth}{_cd(birth)}{data.sex}"
    lower = f"{expiry}{_cd(expiry)}{personal}<"
    composite = _cd(upper[0:10] + upper[13:20] + lower)
    return [line1, f"{upper}{lower}{composite}"]


@dataclass(frozen=True)
class Holder:
    """What a document says about its holder: the name as printed, and the personal data."""

    name: Written
    sex: str
    date_of_birth: dt.date
    nationality: str


def holder_of(person: Person, standard: Standard) -> Holder:
    return Holder(written(person, standard), person.sex, person.date_of_birth, person.nationality)


def passport_mrz(holder: Holder, number: str, state: str, expiry: dt.date) -> list[str]:
    data = MrzData(
        holder.name.surname,
        holder.name.given_names,
        number,
        state,
        holder.nationality,
        holder.date_of_birth,
        holder.sex,
        expiry,
    )
    return td3(data)
