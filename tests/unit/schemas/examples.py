# ruff: noqa: E501  (copied verbatim from DESIGN.md)
"""The examples of ../shared/DESIGN.md, copied verbatim (synthetic people).

The alert example elides its ids ("a-3f9c…", "0b0d…"); ``design_alert`` fills them in with
the event's id and the derived alert id, which is what the elision stands for.
"""

from __future__ import annotations

import copy
from typing import Any

from schemas.alert import alert_id_for

RED_NOTICE: dict[str, Any] = {
    "entry_id": "RED-2025-004711", "list": "red_notice", "status": "active", "issuer": "UZB",
    "action": "arrest",
    "dissemination": {"restricted_to": ["KAZ", "UZB"]},
    "person": {"names": [{"surname": "KHOLMATOV", "given_names": "ALISHER", "patronymic": "ABDULLAEVICH"},
                         {"surname": "Холматов", "given_names": "Алишер"}],
               "date_of_birth": "1985-03-02", "sex": "M", "nationalities": ["UZB"],
               "documents": [{"number": "FA1234567", "issuing_state": "UZB", "type": "P"}]},
}  # fmt: skip
SLTD: dict[str, Any] = {
    "entry_id": "DOC-UZB-000123", "list": "sltd", "status": "active", "issuer": "UZB",
    "action": "seize_document",
    "document": {"number": "FA7654321", "issuing_state": "UZB", "type": "P", "status": "stolen"},
}  # fmt: skip
EVENT: dict[str, Any] = {
    "event_id": "0b0d6e0e-2b1d-4c55-9a43-5d8f1c8f7a10", "type": "border_crossing",
    "occurred_at": "2026-11-22T08:15:30Z", "reported_by": "KAZ-BORDER", "country": "KAZ",
    "location": {"code": "KZ-ALA-AIR", "name": "Almaty International Airport", "kind": "air"},
    "direction": "entry",
    "traveller": {"surname": "KHOLMATOV", "given_names": "ALISHER", "date_of_birth": "1985-03-02",
                  "sex": "M", "nationality": "UZB"},
    "document": {"number": "FA1234567", "issuing_state": "UZB", "type": "P", "expiry_date": "2031-05-01",
                 "mrz": ["P<UZBKHOLMATOV<<ALISHER<<<<<<<<<<<<<<<<<<<<<",
                         "FA12345673UZB8503024M3105010<<<<<<<<<<<<<<06"]},
}  # fmt: skip
ALERT: dict[str, Any] = {
    "alert_id": "a-3f9c…", "event_id": "0b0d…", "entry_id": "RED-2025-004711", "list": "red_notice",
    "kind": "person", "band": "strong", "score": 0.97, "action": "arrest", "urgency": "urgent",
    "country": "KAZ", "issuer": "UZB", "occurred_at": "2026-11-22T08:15:30Z",
    "explanation": [{"field": "surname", "event": "KHOLMATOV", "entry": "Холматов", "how": "transliteration", "score": 1.0},
                    {"field": "date_of_birth", "event": "1985-03-02", "entry": "1985-03-02", "how": "exact", "score": 1.0}],
    "created_at": "2026-11-22T08:15:30.041Z",
}  # fmt: skip


def design_alert() -> dict[str, Any]:
    alert = copy.deepcopy(ALERT)
    alert["event_id"] = EVENT["event_id"]
    alert["alert_id"] = alert_id_for(EVENT["event_id"], alert["entry_id"])
    return alert
