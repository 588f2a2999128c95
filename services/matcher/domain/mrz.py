"""What an event's machine-readable zone adds to screening.

The MRZ is what the document itself says. When its name differs from the name typed for the
event (a married name typed, a slip at the desk, another transliteration), the screener also
screens the MRZ's name and says so in the explanation. When its check digits fail, every alert
of the event says that too: the document may be misread, altered or forged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from schemas.alert import MRZ_FIELD, How
from schemas.mrz import read_mrz, read_mrz_name
from services.matcher.domain.explain import Evidence
from services.matcher.domain.names import GIVEN, PATRONYMIC, SURNAME, Token, tokenise
from services.matcher.domain.records import EventRecord

NAME_FROM_MRZ = How.NAME_FROM_MRZ
CHECK_DIGIT_FAILED = How.CHECK_DIGIT_FAILED
# Check digits do not depend on the day; a fixed one keeps the screener off the clock.
_ANY_DAY = dt.date(2000, 1, 1)


def mrz_tokens(record: EventRecord, typed: tuple[Token, ...]) -> tuple[Token, ...] | None:
    """The MRZ's name as tokens, or None when there is none or it says what was typed.

    Compared on the tokens' skeletons, so a typed name that only differs in case or script
    (Eriksson / ERIKSSON, Холматов / KHOLMATOV) is screened once. The typed patronymic is
    left out of the comparison: an MRZ seldom prints one, and screening the same name again
    without it would only drop evidence (a patronymic other than the listed one).
    """
    if record.mrz is None:
        return None
    name = read_mrz_name(record.mrz)
    if name is None:
        return None
    surname, given = name
    if surname == record.surname and given == record.given_names:
        return None  # the usual event: typed as printed
    tokens = tokenise(surname, SURNAME) + tokenise(given, GIVEN)
    if not tokens or _keys(tokens) == _keys(t for t in typed if t.role != PATRONYMIC):
        return None
    return tokens


def _keys(tokens: Iterable[Token]) -> list[tuple[str, tuple[str, ...]]]:
    return [(t.role, t.keys) for t in tokens]


def name_note(tokens: tuple[Token, ...], score: float) -> Evidence:
    """The explanation line saying the name lines that follow are the MRZ's, not the typed."""
    return Evidence(MRZ_FIELD, " ".join(t.raw for t in tokens), None, NAME_FROM_MRZ, score)


def check_digit_note(record: EventRecord) -> Evidence | None:
    """The explanation line for an MRZ whose check digits fail (``event``: which ones).

    Read again here rather than trusted from ingest's ``mrz_valid`` alone: that verdict also
    covers other faults (layout, characters), and events screened offline carry none. Only
    events that matched get here, so reading the zone costs nothing on the hot path.
    """
    if record.mrz is None or record.mrz_valid is True:
        return None
    failed = [name for name, ok in read_mrz(record.mrz, today=_ANY_DAY).checks.items() if not ok]
    if not failed:
        return None
    which = ", ".join(name.replace("_", " ") for name in failed)
    return Evidence(MRZ_FIELD, which, None, CHECK_DIGIT_FAILED, 0.0)
