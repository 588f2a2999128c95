"""Synthetic alerts and contact-point directories for notifier tests and the benchmark."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

from schemas.alert import Alert, alert_id_for


def secret_for(name: str) -> str:
    return "whsec_" + base64.b64encode(hashlib.sha256(name.encode()).digest()).decode()


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def make_alert(**overrides: Any) -> Alert:
    event_id = overrides.pop("event_id", str(uuid.uuid4()))
    entry_id = overrides.pop("entry_id", "RED-2025-004711")
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "alert_id": alert_id_for(event_id, entry_id),
        "event_id": event_id,
        "entry_id": entry_id,
        "list": "red_notice",
        "kind": "person",
        "band": "strong",
        "score": 0.97,
        "action": "arrest",
        "urgency": "urgent",
        "country": "KAZ",
        "issuer": "UZB",
        "occurred_at": now,
        "created_at": now,
        "explanation": [{"field": "surname", "event": "TESTOV", "entry": "Тестов",
                         "how": "transliteration", "score": 1.0}],
        "traveller": {"surname": "TESTOV", "given_names": "SYNTH", "date_of_birth": "1980-01-01"},
        # 64 random bits: the de-dup key is the document, and with 28 bits (as before) two of a
        # bench run's 9,000 alerts shared one about every seventh run, which made the second
        # an update that pages no one, and the bench waited for pages that never came.
        "event_document": {"number": f"ZZ{uuid.uuid4().hex[:16].upper()}", "issuing_state": "UZB"},
    }  # fmt: skip
    base.update(overrides)
    return Alert.model_validate(base, strict=False)


def contact_point(cp_id: str, country: str, **channels: Any) -> dict[str, Any]:
    return {"id": cp_id, "country": country, "api_key_sha256": key_hash(f"key-{cp_id}"), **channels}


def webhook(url: str, name: str, *, pager: bool = False) -> dict[str, Any]:
    # Two secrets: the old one and the one the receiver verifies with (rotation in progress).
    return {"url": url, "secrets": [secret_for(f"old-{name}"), secret_for(name)], "pager": pager}


def standard_directory(url: Any, email: bool = False) -> dict[str, Any]:
    """KAZ (primary + backup), UZB, KGZ, TJK and a coordination centre (XPO), all on webhooks.

    ``url(name)`` gives the receiver URL of endpoint ``name``; each endpoint is its own lane.
    """

    def cp(cp_id: str, country: str, pager: bool = False) -> dict[str, Any]:
        extra: dict[str, Any] = {"webhook": webhook(url(cp_id), cp_id, pager=pager)}
        if email:
            extra["email"] = [f"duty@{cp_id.lower()}.example"]
        return contact_point(cp_id, country, **extra)

    return {
        "coordination_centre": "XPO-CC",
        "contact_points": [
            cp("KAZ-NCB", "KAZ", pager=True), cp("KAZ-BACKUP", "KAZ"), cp("UZB-NCB", "UZB"),
            cp("KGZ-NCB", "KGZ"), cp("TJK-NCB", "TJK"), cp("XPO-CC", "XPO", pager=True),
        ],
        "countries": {
            "KAZ": {"primary": "KAZ-NCB", "backup": "KAZ-BACKUP"},
            "UZB": {"primary": "UZB-NCB"}, "KGZ": {"primary": "KGZ-NCB"},
            "TJK": {"primary": "TJK-NCB"},
        },
    }  # fmt: skip


# The ids of the standard directory's contact points, each one webhook endpoint (read from the
# directory itself, so the two never disagree).
STANDARD_CONTACT_POINTS = tuple(cp["id"] for cp in standard_directory(str)["contact_points"])
