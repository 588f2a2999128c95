"""Directory, alerts and a headless Chromium for the duty-console tests."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, ViewportSize, async_playwright

from schemas.alert import Alert
from tests.support.notifier_data import contact_point, make_alert

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
SCREEN: ViewportSize = {"width": 1366, "height": 768}


def chromium_path() -> str:
    if not CHROMIUM.exists():
        raise RuntimeError("no /usr/bin/chromium: run `make chromium`")
    return str(CHROMIUM)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium (``make chromium``); Playwright never downloads a browser here."""
    executable = chromium_path()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


def console_directory() -> dict[str, Any]:
    """Console-only contact points: KAZ (primary + backup), UZB, TJK, coordination centre."""

    def cp(cp_id: str, country: str, name: str) -> dict[str, Any]:
        return contact_point(cp_id, country, console=True, name=name)

    return {
        "coordination_centre": "XPO-CC",
        "contact_points": [
            cp("KAZ-NCB", "KAZ", "NCB Astana"), cp("KAZ-BACKUP", "KAZ", "NCB Astana backup"),
            cp("UZB-NCB", "UZB", "NCB Tashkent"), cp("TJK-NCB", "TJK", "NCB Dushanbe"),
            cp("XPO-CC", "XPO", "Coordination centre"),
        ],
        "countries": {
            "KAZ": {"primary": "KAZ-NCB", "backup": "KAZ-BACKUP"},
            "UZB": {"primary": "UZB-NCB"}, "TJK": {"primary": "TJK-NCB"},
        },
    }  # fmt: skip


def person_alert(
    surname: str, given: str, entry_names: list[dict[str, str]], **extra: Any
) -> Alert:
    """A person alert with its own entry (no de-dup between alerts) and both sides filled."""
    entry_id = extra.pop("entry_id", f"RED-2025-{uuid.uuid4().int % 10**6:06d}")
    document = extra.pop("document", f"N{uuid.uuid4().int % 10**8:08d}")
    first = entry_names[0]
    values: dict[str, Any] = {
        "entry_id": entry_id,
        "event_type": "border_crossing",
        "location": {"code": "KZ-ALA-AIR", "name": "Almaty airport", "kind": "air"},
        "traveller": {"surname": surname, "given_names": given, "date_of_birth": "1984-03-12",
                      "sex": "M", "nationality": "UZB"},
        "event_document": {"number": document, "issuing_state": "UZB", "type": "P",
                           "expiry_date": "2031-05-01"},
        "entry_person": {"names": entry_names, "date_of_birth": "1984-03-12", "sex": "M",
                         "nationalities": ["UZB"],
                         "documents": [{"number": document, "issuing_state": "UZB"}]},
        "explanation": [
            {"field": "surname", "event": surname, "entry": first["surname"],
             "how": "transliteration", "score": 0.96},
            {"field": "given_names", "event": given, "entry": first.get("given_names"),
             "how": "exact", "score": 1.0},
            {"field": "date_of_birth", "event": "1984-03-12", "entry": "1984-03-12",
             "how": "exact", "score": 1.0},
            {"field": "document_number", "event": document, "entry": document,
             "how": "same_number", "score": 1.0},
        ],
        "summary": "Traveller matches a red notice issued by UZB: name, date of birth, passport.",
        **extra,
    }  # fmt: skip
    return make_alert(**values)


async def wait_in_stream(client: httpx.AsyncClient, alert_id: str) -> dict[str, object]:
    """Read the live stream until the alert shows up; returns that snapshot."""
    async with client.stream("GET", "/console/api/stream") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        event = ""
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "inbox":
                snapshot: dict[str, object] = json.loads(line[6:])
                if alert_id in {a["alert_id"] for a in snapshot["alerts"]}:  # type: ignore[attr-defined]
                    return snapshot
    raise AssertionError("stream ended")
