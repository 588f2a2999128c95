"""Dates of birth that may be partial (YYYY, YYYY-MM, YYYY-MM-DD) or 1 January placeholders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from schemas.alert import How

_CONTRADICTION_YEARS = 2  # full or partial dates this many years apart are other people


@dataclass(frozen=True, slots=True)
class DateComparison:
    how: How
    score: float
    contradicts: bool


# Every outcome is one of these (made once: a comparison runs for every name candidate).
UNKNOWN = DateComparison(How.UNKNOWN, 0.5, False)
EXACT = DateComparison(How.EXACT, 1.0, False)
YEARS_APART = DateComparison(How.DIFFERENT, 0.0, True)
ONE_DIGIT = DateComparison(How.ONE_DIGIT_DIFFERENT, 0.5, False)
YEAR_APART_FULL = DateComparison(How.DIFFERENT, 0.2, True)
YEAR_APART = DateComparison(How.DIFFERENT, 0.2, False)
PARTIAL = DateComparison(How.PARTIAL_DATE, 0.85, False)
PLACEHOLDER = DateComparison(How.PLACEHOLDER_DATE, 0.8, False)
SWAPPED = DateComparison(How.DAY_MONTH_SWAPPED, 0.9, False)
SAME_YEAR_MONTH = DateComparison(How.SAME_YEAR_MONTH, 0.5, False)
SAME_YEAR = DateComparison(How.SAME_YEAR, 0.3, False)


@lru_cache(maxsize=100_000)
def parse(value: str | None) -> tuple[int, int | None, int | None] | None:
    """``"1985-03"`` -> ``(1985, 3, None)``; None for absent or unreadable values."""
    if not value:
        return None
    parts = value.split("-")
    try:
        numbers = [int(p) for p in parts[:3]]
    except ValueError:
        return None
    numbers += [0] * (3 - len(numbers))
    year, month, day = numbers
    return year, month or None, day or None


def _is_placeholder(parts: tuple[int, int | None, int | None]) -> bool:
    return parts[1] == 1 and parts[2] == 1


def compare(event_value: str | None, entry_value: str | None) -> DateComparison:
    event, entry = parse(event_value), parse(entry_value)
    if event is None or entry is None:
        return UNKNOWN
    if event == entry:
        return EXACT
    if abs(event[0] - entry[0]) >= _CONTRADICTION_YEARS:
        return YEARS_APART
    if event[0] != entry[0]:
        return _one_year_apart(event, entry)
    return _same_year(event, entry)


def _one_year_apart(
    event: tuple[int, int | None, int | None], entry: tuple[int, int | None, int | None]
) -> DateComparison:
    # same day and month a year apart is a typing slip; anything else is doubtful
    if event[1:] == entry[1:] and event[1] is not None:
        return ONE_DIGIT
    both_full = None not in (*event, *entry)
    return YEAR_APART_FULL if both_full else YEAR_APART


def _same_year(
    event: tuple[int, int | None, int | None], entry: tuple[int, int | None, int | None]
) -> DateComparison:
    if None in (event[1], entry[1]) or (event[1] == entry[1] and None in (event[2], entry[2])):
        return PARTIAL
    if _is_placeholder(entry) or _is_placeholder(event):
        return PLACEHOLDER
    if (event[1], event[2]) == (entry[2], entry[1]):
        return SWAPPED
    if event[1] == entry[1]:
        return SAME_YEAR_MONTH
    return SAME_YEAR


def is_minor(date_of_birth: str | None, on: dt.date) -> bool:
    """Possibly under 18 on the given day; a partial date counts if any reading is a minor."""
    parts = parse(date_of_birth)
    if parts is None:
        return False
    year, month, day = parts
    try:
        latest_birthday = dt.date(year, month or 12, day or 28)
    except ValueError:
        return False
    age = on.year - latest_birthday.year
    if (on.month, on.day) < (latest_birthday.month, latest_birthday.day):
        age -= 1
    return age < 18
