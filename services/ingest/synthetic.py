"""Synthetic events (made-up people) for tests, benchmarks and demos, with correct MRZs."""

from __future__ import annotations

import random
import uuid
from typing import Any

from schemas.mrz import check_digit

_SURNAMES = ("TESTOV", "EXAMPLEVA", "SAMPLEOV", "DEMIROVA", "PROBOV", "FIKTIVOV", "MODELOVA")
_GIVEN = ("ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT")
_STATES = ("UZB", "KAZ", "KGZ", "TJK", "RUS")


def td3_mrz(person: dict[str, Any], document: dict[str, Any]) -> list[str]:
    """A TD3 (passport) MRZ whose check digits are right."""
    name = f"{person['surname']}<<{person['given_names']}".replace(" ", "<")
    line1 = f"P<{document['issuing_state']}{name}".ljust(44, "<")[:44]
    number = document["number"].ljust(9, "<")[:9]
    dob = person["date_of_birth"].replace("-", "")[2:]
    expiry = document["expiry_date"].replace("-", "")[2:]
    optional = "<" * 14
    head = f"{number}{check_digit(number)}{person['nationality']}{dob}{check_digit(dob)}"
    middle = f"{person['sex']}{expiry}{check_digit(expiry)}{optional}{check_digit(optional)}"
    composite = check_digit(head[0:10] + head[13:20] + middle[1:])
    return [line1, f"{head}{middle}{composite}"]


def make_event(
    rng: random.Random, *, country: str = "KAZ", reported_by: str = "KAZ-BORDER"
) -> dict[str, Any]:
    """One valid event as a border agency would send it (half with a passport and MRZ)."""
    state = rng.choice(_STATES)
    person = {
        "surname": rng.choice(_SURNAMES),
        "given_names": rng.choice(_GIVEN),
        "date_of_birth": f"{rng.randint(1950, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",  # noqa: E501
        "sex": rng.choice("MF"),
        "nationality": state,
    }
    crossing = rng.random() < 0.7
    event: dict[str, Any] = {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "type": "border_crossing" if crossing else "document_check",
        "occurred_at": f"2026-11-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:15:30Z",
        "reported_by": reported_by,
        "country": country,
        "location": {"code": "XX-TEST-1", "kind": "air" if crossing else "inland"},
        "traveller": person,
    }
    if crossing:
        event["direction"] = rng.choice(("entry", "exit"))
    if rng.random() < 0.5:
        document: dict[str, Any] = {
            "number": f"T{rng.randint(0, 99_999_999):08d}",
            "issuing_state": state,
            "type": "P",
            "expiry_date": f"{rng.randint(2027, 2035)}-{rng.randint(1, 12):02d}-15",
        }
        document["mrz"] = td3_mrz(person, document)
        event["document"] = document
    return event
