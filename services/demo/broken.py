"""Records broken on purpose, the ways real feeds break: a missing field, a country that is
no country, a date not in the calendar, a misread MRZ check digit, a malformed id, garbage."""

from __future__ import annotations

import random
from enum import StrEnum
from typing import Any


class Flaw(StrEnum):
    MISSING_SURNAME = "missing_surname"
    BAD_COUNTRY = "bad_country"
    BAD_DATE = "bad_date"
    BAD_MRZ_CHECK = "bad_mrz_check"
    MISSING_DIRECTION = "missing_direction"
    BAD_EVENT_ID = "bad_event_id"
    GARBAGE = "garbage"  # not JSON at all; only where raw bytes can be sent (Kafka)


_JSON_FLAWS = tuple(f for f in Flaw if f is not Flaw.GARBAGE)


def _bad_check_digit(event: dict[str, Any]) -> bool:
    mrz = event.get("document", {}).get("mrz")
    if not mrz:
        return False
    line = mrz[1]
    digit = str((int(line[19]) + 1) % 10)  # the date-of-birth check digit
    mrz[1] = line[:19] + digit + line[20:]
    return True


def break_event(
    rng: random.Random, event: dict[str, Any], *, garbage: bool
) -> tuple[Flaw, bytes | None]:
    """Break ``event`` in place; returns the flaw, and raw bytes when it became garbage."""
    flaws = (*_JSON_FLAWS, Flaw.GARBAGE) if garbage else _JSON_FLAWS
    flaw = flaws[rng.randrange(len(flaws))]
    if flaw is Flaw.GARBAGE:
        return flaw, bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 64))) + b"\xff"
    if flaw is Flaw.BAD_MRZ_CHECK and _bad_check_digit(event):
        return flaw, None
    if flaw is Flaw.MISSING_SURNAME:
        del event["traveller"]["surname"]
    elif flaw is Flaw.BAD_COUNTRY:
        event["country"] = rng.choice(("XYZ", "UZ", "Kaz", "123"))
    elif flaw is Flaw.MISSING_DIRECTION and "direction" in event:
        del event["direction"]
    elif flaw is Flaw.BAD_EVENT_ID:
        event["event_id"] = f"evt-{rng.randrange(10**6)}"
    else:  # bad date; also where the chosen flaw does not apply to this record
        event["traveller"]["date_of_birth"] = rng.choice(("1985-02-30", "1990-13-01", "31.12.80"))
        return Flaw.BAD_DATE, None
    return flaw, None
