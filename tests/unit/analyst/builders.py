"""Events for the analysis tests: people, parties and transport in a few words."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from schemas.event import Event
from services.analyst.domain import Analyser, Hit, Params

KEY = b"test-pseudonymisation-key-0123456789"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday
_ids = itertools.count(1)


@dataclass(frozen=True)
class P:
    """A person as one document writes them."""

    surname: str
    given: str
    born: str
    sex: str = "M"
    number: str | None = None
    state: str = "UZB"
    patronymic: str | None = None


def event(person: P, day: float, **extra: Any) -> Event:
    """``person`` crossing ``day`` days after START; ``extra``: party, transport, country..."""
    raw: dict[str, Any] = {
        "event_id": str(uuid.UUID(int=next(_ids), version=4)),
        "type": "border_crossing",
        "direction": extra.pop("direction", "exit"),
        "occurred_at": (START + dt.timedelta(days=day)).isoformat(),
        "reported_by": "KAZ-BORDER",
        "country": extra.pop("country", "KAZ"),
        "traveller": {"surname": person.surname, "given_names": person.given,
                      "date_of_birth": person.born, "sex": person.sex},
    }  # fmt: skip
    if person.patronymic:
        raw["traveller"]["patronymic"] = person.patronymic
    if person.number:
        raw["document"] = {"number": person.number, "issuing_state": person.state}
    return Event.model_validate(raw | extra)


def party(pid: str, role: str = "member", consent: str | None = None) -> dict[str, Any]:
    return {"id": pid, "role": role, "consent": consent}


def flight(number: str, destination: str = "ARE") -> dict[str, Any]:
    return {"mode": "air", "carrier": number[:2], "number": number, "destination": destination}


def run(events: list[Event], hits: Sequence[Hit] = (), params: Params | None = None) -> Analyser:
    analyser = Analyser(params or Params(), KEY)
    by_event: dict[str, list[Hit]] = {}
    for hit in hits:
        by_event.setdefault(hit.event_id, []).append(hit)
    for item in sorted(events, key=lambda e: e.occurred_at):
        analyser.observe(item, by_event.get(item.event_id, []))
    return analyser


def patterns(analyser: Analyser) -> list[str]:
    return sorted(lead.pattern.value for lead in analyser.leads.values())
