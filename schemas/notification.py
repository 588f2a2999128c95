"""The notifier's records: delivery jobs, attempts, acknowledgements, escalations and audit.

Topics: ``notifications.deliveries`` (key = notification_id, compacted: the latest state of each
job), ``notifications.acks`` (key = alert_id) and ``notifications.audit`` (every state change).
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StrictInt, StrictStr

from schemas.alert import Alert
from schemas.common import CountryCode, Model, Timestamp, uuid5_hex

NOTIFICATION_VERSION = "notification/1"
ACK_VERSION = "ack/1"
AUDIT_VERSION = "audit/1"
REVOCATION_VERSION = "revocation/1"

_NOTIFICATION_NAMESPACE = uuid.UUID("0e4f3c1d-7f0a-4b7e-9d51-2c8e6a1b9f30").bytes

AlertId = Annotated[StrictStr, Field(pattern=r"^a-[0-9a-f]{32}$")]
NotificationId = Annotated[StrictStr, Field(pattern=r"^n-[0-9a-f]{32}$")]
Identifier = Annotated[StrictStr, Field(min_length=1, max_length=200)]
Comment = Annotated[StrictStr, Field(max_length=4000)]


class Channel(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"
    CONSOLE = "console"


def notification_id_for(alert_id: str, recipient: str, channel: str) -> str:
    """One delivery job per (alert, contact point, channel), however often it is routed."""
    return "n-" + uuid5_hex(_NOTIFICATION_NAMESPACE, f"{alert_id}\x1f{recipient}\x1f{channel}")


class NotificationState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"  # this attempt failed; a retry is scheduled
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"  # the entry was cancelled before the contact point acted
    DEAD_LETTERED = "dead_lettered"  # retries exhausted


class NoticeKind(StrEnum):
    """What a delivery tells its recipient about the alert."""

    ALERT = "alert"  # the first page
    UPDATE = "update"  # the same person hit the same entry again within the de-dup window
    ESCALATION = "escalation"  # nobody acknowledged in time; this recipient is next in the chain
    CANCELLATION = "cancellation"  # the entry was cancelled after the alert went out


class DeliveryAttempt(Model):
    attempt: Annotated[StrictInt, Field(ge=1)]
    at: Timestamp
    ok: bool
    status_code: StrictInt | None = None
    error: Comment | None = None
    duration_ms: Annotated[float, Field(ge=0)] | None = None


class Notification(Model):
    notification_id: NotificationId
    alert_id: AlertId
    recipient: Identifier  # contact point id, e.g. "KAZ-NCB"
    country: CountryCode  # the recipient's country
    channel: Annotated[Channel, Field(strict=False)]
    address: Identifier | None = None  # URL or e-mail address the channel delivers to
    state: Annotated[NotificationState, Field(strict=False)]
    created_at: Timestamp
    updated_at: Timestamp
    next_attempt_at: Timestamp | None = None
    attempts: list[DeliveryAttempt] = Field(default_factory=list)
    ack_deadline: Timestamp | None = None
    escalation_level: Annotated[StrictInt, Field(ge=0)] = 0
    # Optional, added by the notifier (all additive): what kind of notice this is, the entry it
    # is about (for cancellations), the de-dup key (a hash, no personal data) and the alert to
    # send, kept so that a restarted notifier can resend, escalate and cancel.
    notice: Annotated[NoticeKind, Field(strict=False)] = NoticeKind.ALERT
    entry_id: Identifier | None = None
    dedup_key: Identifier | None = None
    alert: Alert | None = None


class AckKind(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    CANNOT_ACT = "cannot_act"
    RESOLVED = "resolved"


class Acknowledgement(Model):
    alert_id: AlertId
    kind: Annotated[AckKind, Field(strict=False)]
    contact_point: Identifier
    at: Timestamp
    comment: Comment | None = None
    notification_id: NotificationId | None = None


class Escalation(Model):
    alert_id: AlertId
    level: Annotated[StrictInt, Field(ge=1)]
    reason: Comment
    to: Identifier  # the contact point or supervisor escalated to
    at: Timestamp
    notification_id: NotificationId | None = None


class AuditAction(StrEnum):
    ROUTED = "routed"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    RETRIED = "retried"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"
    DEAD_LETTERED = "dead_lettered"


class AuditRecord(Model):
    audit_id: Identifier
    alert_id: AlertId
    notification_id: NotificationId | None = None
    action: Annotated[AuditAction, Field(strict=False)]
    actor: Identifier  # service or person: "notifier", "KAZ-NCB/duty-officer"
    at: Timestamp
    details: dict[str, Any] = Field(default_factory=dict)


class RevocationKind(StrEnum):
    SESSION = "session"  # a console session signed out
    LINK = "link"  # an acknowledgement link used once


class Revocation(Model):
    """A nonce no replica may accept again (``notifications.revocations``, key =
    ``<kind>:<nonce>``, compacted); worth keeping only until ``expires_at``."""

    kind: Annotated[RevocationKind, Field(strict=False)]
    nonce: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
    expires_at: Timestamp
