"""The writer's audit fast path writes exactly what encoding the validated model writes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from schemas.codec import decode, encode
from schemas.notification import (
    AuditAction,
    AuditRecord,
    Channel,
    Notification,
    NotificationState,
)
from services.common.audit import new_audit_id
from services.notifier.writer import SERVICE, audit_json


def job() -> Notification:
    at = datetime.now(UTC)
    return Notification(
        notification_id=f"n-{uuid.uuid4().hex}", alert_id=f"a-{uuid.uuid4().hex}",
        recipient="KAZ-NCB", country="KAZ", channel=Channel.WEBHOOK, entry_id="RED-T-1",
        state=NotificationState.PENDING, created_at=at, updated_at=at,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("action", "details"),
    [
        (AuditAction.ROUTED, {"notice": "alert"}),
        (AuditAction.SENT, {"attempt": 1, "status": 200, "error": None}),
        (AuditAction.RETRIED, {"next_attempt_in_s": 0.123, "attempt": 2, "status": None,
                               "error": "timeout"}),
        (AuditAction.ACKNOWLEDGED, {"actor": "KAZ-NCB/duty", "kind": "acknowledged"}),
        (AuditAction.DEAD_LETTERED, {"reason": 'HTTP 400 "bad" \u2028 é'}),
        (AuditAction.DELIVERED, {}),
    ],
)  # fmt: skip
def test_same_bytes_as_the_validated_model(action: AuditAction, details: dict[str, Any]) -> None:
    n = job()
    fast = audit_json(n, action, **dict(details))
    record = decode(AuditRecord, fast)
    rest = dict(details)
    expected = AuditRecord(
        audit_id=record.audit_id, alert_id=n.alert_id, notification_id=n.notification_id,
        action=action, actor=rest.pop("actor", SERVICE), at=record.at,
        details={"recipient": n.recipient, "channel": n.channel.value, "country": n.country,
                 "entry_id": n.entry_id, **rest},
    )  # fmt: skip
    assert fast == encode(expected)


def test_timestamps_with_and_without_microseconds_match_pydantic() -> None:
    for at in (
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 60, tzinfo=UTC),
    ):
        assert orjson.dumps(at, option=orjson.OPT_UTC_Z).strip(b'"') in encode(
            AuditRecord(audit_id="x", alert_id=f"a-{'0' * 32}", action=AuditAction.SENT,
                        actor="notifier", at=at)
        )  # fmt: skip


def test_audit_ids_are_uuid4_hex_and_distinct() -> None:
    ids = {new_audit_id() for _ in range(2000)}
    assert len(ids) == 2000
    for value in list(ids)[:200]:
        parsed = uuid.UUID(hex=value)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert parsed.hex == value
