"""From field evidence to a score, a band and an urgency.

Bands: ``strong`` = the name matches well and the date of birth agrees (or a listed document
was presented): act now. ``possible`` = the name matches but the rest is unknown or doubtful:
a human looks. A date of birth years apart rules a person match out (see dates.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from schemas.alert import How, pages
from services.matcher.domain import dates
from services.matcher.domain.explain import Evidence
from services.matcher.domain.records import PersonRecord, SltdRecord

STRONG, POSSIBLE = "strong", "possible"
URGENT, ROUTINE = "urgent", "normal"  # schemas.alert.Urgency values
PERSON, DOCUMENT = "person", "document"

_WEIGHTS = {"name": 0.65, "date_of_birth": 0.2, "nationality": 0.1, "sex": 0.05}
_STRONG_NAME = 0.85
_STRONG_DOB = 0.8
_POSSIBLE_SCORE = 0.6


@dataclass(frozen=True, slots=True)
class Match:
    """One alert-to-be: an event matched one watchlist entry."""

    event_id: str
    entry_id: str
    list: str
    kind: str
    band: str
    score: float
    action: str | None
    urgency: str
    country: str | None
    issuer: str | None
    occurred_at: str
    evidence: tuple[Evidence, ...]
    restricted_to: tuple[str, ...] | None = None
    subject_minor: bool | None = None
    # the entry as the index holds it: the alert's listed side (``snapshot``)
    entry: PersonRecord | SltdRecord | None = None


@dataclass(frozen=True, slots=True)
class PersonEvidence:
    name_score: float
    date_of_birth: dates.DateComparison
    nationality: float
    sex: float
    fuzzy_tokens: int = 0
    weakest_token: float = 1.0
    gender_form: bool = False

    def ruled_out(self) -> bool:
        """Evidence against, or a name too loose to stand without a supporting birth date."""
        if self.date_of_birth.contradicts:
            return True
        if self.gender_form and self.sex == 0:  # Ivanova is not the Ivanov who is listed
            return True
        loose = self.fuzzy_tokens >= 2 or self.weakest_token < _STRONG_NAME
        return loose and self.date_of_birth.score < _STRONG_DOB


def person_band(evidence: PersonEvidence) -> tuple[float, str | None]:
    """(score, band); band None = no alert."""
    if evidence.ruled_out():
        return 0.0, None
    score = (
        _WEIGHTS["name"] * evidence.name_score
        + _WEIGHTS["date_of_birth"] * evidence.date_of_birth.score
        + _WEIGHTS["nationality"] * evidence.nationality
        + _WEIGHTS["sex"] * evidence.sex
    )
    score = round(min(score, 1.0), 3)
    strong = (
        evidence.name_score >= _STRONG_NAME
        and evidence.date_of_birth.score >= _STRONG_DOB
        and evidence.sex > 0
    )
    if strong:
        return score, STRONG
    return score, POSSIBLE if score >= _POSSIBLE_SCORE else None


def agreement(event_value: str | None, entry_values: tuple[str, ...]) -> tuple[float, How]:
    """Nationality or sex: 1 agrees, 0 contradicts, 0.5 unknown."""
    known = tuple(v for v in entry_values if v and v != "X")
    if not event_value or event_value == "X" or not known:
        return 0.5, How.UNKNOWN
    if event_value in known:
        return 1.0, How.SAME
    return 0.0, How.CONTRADICTS


def urgency(list_name: str, band: str, minor: bool) -> str:
    """Urgent: what pages (``schemas.alert.pages``: strong hits on red notices and diffusions,
    and on yellow notices of minors)."""
    return URGENT if pages(band, ROUTINE, list_name, minor) else ROUTINE


def day_of(occurred_at: str) -> dt.date:
    try:
        return dt.date.fromisoformat(occurred_at[:10])
    except ValueError:
        return dt.date.max  # unreadable time: nobody counts as a minor by it
