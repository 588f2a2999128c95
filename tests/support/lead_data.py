"""Synthetic leads for the console's Leads view: the shapes the analysis service publishes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import ConsumerRecord

from schemas.codec import decode, encode, schema_header
from schemas.lead import LEADS_TOPIC, Lead, lead_id_for, lead_key
from schemas.notification import AuditAction, AuditRecord
from services.common.kafka import make_producer
from services.common.settings import CommonSettings

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


def _event_id() -> str:
    return str(uuid.uuid4())


def serial_escort(country: str = "KAZ", surname: str = "SYNTHOVA", **extra: Any) -> Lead:
    """One escort crossing three times, each time with another minor of another family, in a
    party and on a flight: every kind of node the link chart draws."""
    minors = [("ALPHEEV", "TIMUR"), ("BETOVA", "ZARINA"), ("GAMMOV", "ILYAS")]
    subjects: list[dict[str, Any]] = [
        {
            "role": "escort",
            "traveller": {"surname": surname, "given_names": "DILNOZA",
                          "date_of_birth": "1979-04-02", "sex": "F", "nationality": "UZB"},
            "document": {"number": "FA0000001", "issuing_state": "UZB"},
        },
        *[
            {"role": "minor", "traveller": {"surname": s, "given_names": g,
                                            "date_of_birth": "2014-01-0" + str(i + 1)}}
            for i, (s, g) in enumerate(minors)
        ],
    ]  # fmt: skip
    evidence: list[dict[str, Any]] = []
    for i in range(3):
        at = T0 + timedelta(days=12 * i)
        party = f"KZ-ALA-AIR-{at:%Y%m%d}-00{i + 1}"
        trip = f"air KC93{i} {at:%Y-%m-%d}"
        evidence.append(
            {"event_id": _event_id(), "occurred_at": at.isoformat(), "subject": 0,
             "why": f"crossed with minor #{i + 1} of 3 in 24 days", "party": party,
             "transport": trip, "country": country,
             "document": {"number": "FA0000001", "issuing_state": "UZB"}}
        )  # fmt: skip
        evidence.append(
            {"event_id": _event_id(), "occurred_at": (at + timedelta(seconds=30)).isoformat(),
             "subject": i + 1, "why": f"minor #{i + 1}: family name differs from the escort's",
             "party": party, "transport": trip, "country": country}
        )  # fmt: skip
    values: dict[str, Any] = {
        "lead_id": lead_id_for("serial_escort", [surname, country]),
        "pattern": "serial_escort",
        "score": 0.91,
        "created_at": (T0 + timedelta(days=24)).isoformat(),
        "country": country,
        "subjects": subjects,
        "evidence": evidence[::-1],  # the console puts them in time order
        "summary": "One adult crossed with 3 different unrelated minors in 24 days.",
        **extra,
    }
    return Lead.model_validate(values)


def associate_of_listed(
    country: str = "KAZ", restricted_to: list[str] | None = None, **extra: Any
) -> Lead:
    """A traveller twice beside a red-notice subject; restricted like its entry, if given."""
    entry_id = f"RED-2025-{uuid.uuid4().int % 10**6:06d}"
    values: dict[str, Any] = {
        "lead_id": lead_id_for("associate_of_listed", [entry_id]),
        "pattern": "associate_of_listed",
        "score": 0.78,
        "created_at": (T0 + timedelta(days=40)).isoformat(),
        "country": country,
        "subjects": [
            {"role": "associate", "traveller": {"surname": "SYNTHEV", "given_names": "ORAZ"}},
            {"role": "listed", "traveller": {"surname": "LISTOV", "given_names": "KAMOL"},
             "entry_id": entry_id},
        ],
        "evidence": [
            {"event_id": _event_id(), "occurred_at": (T0 + timedelta(days=d)).isoformat(),
             "subject": 0, "why": f"same flight as the listed person ({n} of 2)",
             "transport": f"air HY70{n} {(T0 + timedelta(days=d)):%Y-%m-%d}", "country": country}
            for n, d in ((1, 30), (2, 40))
        ],
        "summary": "A traveller travelled with a wanted person 2 time(s).",
        "dissemination": {"restricted_to": restricted_to} if restricted_to else None,
        **extra,
    }  # fmt: skip
    return Lead.model_validate(values)


async def produce_leads(settings: CommonSettings, leads: list[Lead]) -> None:
    async with make_producer(settings) as producer:
        for lead in leads:
            await producer.send(
                settings.topic(LEADS_TOPIC), encode(lead), key=lead_key(lead.lead_id),
                headers=[schema_header(Lead)],
            )  # fmt: skip
        await producer.flush()


def lead_reads(
    records: list[ConsumerRecord[bytes, bytes]], action: AuditAction, actor: str
) -> list[AuditRecord]:
    """The audit records of ``notifications.audit`` of that action by that officer, in order."""
    found = [decode(AuditRecord, r.value) for r in records if r.value is not None]
    return [a for a in found if a.action == action and a.actor == actor]


def flow_surge(country: str = "KAZ") -> Lead:
    """Aggregates only: a route and profile far above its usual weekly count, no person."""
    week = T0 + timedelta(days=49)
    values: dict[str, Any] = {
        "lead_id": lead_id_for("flow_surge", [country, "ARE", "F", "18-25", f"{week:%Y-%m-%d}"]),
        "pattern": "flow_surge",
        "score": 0.95,
        "created_at": (week + timedelta(days=6)).isoformat(),
        "country": country,
        "subjects": [],
        "evidence": [
            {"event_id": _event_id(), "occurred_at": (week + timedelta(hours=h)).isoformat(),
             "why": "one of 41 crossings in the week", "country": country}
            for h in (3, 30, 70)
        ],
        "summary": "41 women aged 18-25 left for ARE in one week; usually 6.",
        "aggregate": {"country": country, "destination": "ARE", "sex": "F", "age_band": "18-25",
                      "week_start": f"{week:%Y-%m-%d}", "count": 41, "baseline_median": 6.0,
                      "baseline_mad": 2.0, "statistic": 11.8},
    }  # fmt: skip
    return Lead.model_validate(values)


def lead_record(
    offset: int, key: bytes | None, value: bytes | None
) -> ConsumerRecord[bytes, bytes]:
    """A record of ``leads`` as a consumer hands it over (partition 0)."""
    return ConsumerRecord(
        "leads", 0, offset, 0, 0, key, value, None,
        len(key or b""), len(value or b""), (),
    )  # fmt: skip
