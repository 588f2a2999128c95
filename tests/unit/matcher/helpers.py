"""Builders of synthetic watchlist entries and events for the matcher's unit tests."""

from __future__ import annotations

from typing import Any

from services.matcher.domain import Match, Screener, WatchlistIndex, entry_record


def person_entry(entry_id: str, names: list[dict[str, str]], **person: Any) -> dict[str, Any]:
    kind = person.pop("list", "red_notice")
    return {
        "entry_id": entry_id,
        "list": kind,
        "status": person.pop("status", "active"),
        "issuer": "UZB",
        "action": "arrest" if kind == "red_notice" else "protect",
        "person": {"names": names, **person},
    }


def sltd_entry(entry_id: str, number: str, state: str = "UZB") -> dict[str, Any]:
    return {
        "entry_id": entry_id,
        "list": "sltd",
        "status": "active",
        "issuer": state,
        "action": "seize_document",
        "document": {"number": number, "issuing_state": state, "type": "P", "status": "stolen"},
    }


def event(surname: str, given: str | None = None, **extra: Any) -> dict[str, Any]:
    document = extra.pop("document", None)
    return {
        "event_id": extra.pop("event_id", "0b0d6e0e-2b1d-4c55-9a43-5d8f1c8f7a10"),
        "type": "border_crossing",
        "occurred_at": extra.pop("occurred_at", "2026-11-22T08:15:30Z"),
        "reported_by": "KAZ-BORDER",
        "country": "KAZ",
        "direction": "entry",
        "traveller": {"surname": surname, "given_names": given, **extra},
        "document": document,
    }


def screen(entries: list[dict[str, Any]], one_event: dict[str, Any]) -> list[Match]:
    index = WatchlistIndex()
    for entry in entries:
        index.upsert(entry_record(entry))
    return Screener(index).screen(one_event)


def kholmatov_and_stolen_passport() -> tuple[dict[str, Any], dict[str, Any]]:
    """Two events for the watchlist of RED-1 (Холматов Алишер) and DOC-1 (UZB AA1234567): one
    by name (Latin), one by a stolen passport written in lower case."""
    hit = event("KHOLMATOV", "ALISHER")
    doc = event(
        "NOBODY", "ELSE", event_id="1b0d6e0e-2b1d-4c55-9a43-5d8f1c8f7a10",
        document={"number": "aa1234567", "issuing_state": "UZB", "type": "P"},
    )  # fmt: skip
    return hit, doc
