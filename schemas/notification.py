"""The notifier's records: delivery jobs, attempts, acknowledgements, escalations and audit.

Topics: ``notifications.deliveries`` (key = notification_id, compacted: the latest state of each
job), ``notifications.acks`` (key = alert_id) and ``notifications.audit`` (every state change and
every read of personal data).
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StrictInt, StrictStr, model_validator
from pydantic.config import JsonDict

from schemas.alert import Alert
from schemas.common import CountryCode, Model, Timestamp, uuid5_hex
from schemas.hit_report import HitReport, OutcomeCode

NOTIFICATION_VERSION = "notification/1"
ACK_VERSION = "ack/1"
AUDIT_VERSION = "audit/1"
REVOCATION_VERSION = "revocation/1"
CANCELLATION_VERSION = "cancellation/1"

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
    HIT_REPORT = "hit_report"  # to the issuer: what the country of the hit did (``hit_report``)
    REMINDER = "reminder"  # no outcome within the deadline: the supervisor and the centre


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
    hit_report: HitReport | None = None  # the report a HIT_REPORT notice delivers


class AckKind(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    CANNOT_ACT = "cannot_act"
    RESOLVED = "resolved"


# An answer as the notifier's HTTP API and console name it in their paths
# (``POST /v1/alerts/{alert_id}/cannot-act``).
ANSWERS: dict[str, AckKind] = {
    "ack": AckKind.ACKNOWLEDGED,
    "cannot-act": AckKind.CANNOT_ACT,
    "resolved": AckKind.RESOLVED,
}


class Acknowledgement(Model):
    alert_id: AlertId
    kind: Annotated[AckKind, Field(strict=False)]
    contact_point: Identifier
    at: Timestamp
    comment: Comment | None = None
    notification_id: NotificationId | None = None
    # Set when the answer is an outcome (it also goes to the issuer as a hit report).
    outcome: Annotated[OutcomeCode, Field(strict=False)] | None = None
    # The officer who answered in the console ("KAZ-NCB/kaz.duty1"); None for an API key or
    # an e-mailed link, which name only the contact point.
    answered_by: Identifier | None = None


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
    # An outcome given (``actor``: who; ``details``: outcome, report_id, role) and the 12-hour
    # rule's reminder (``details``: to, deadline) when none came in time.
    ANSWERED = "answered"
    REMINDED = "reminded"
    # Reads of personal data and console sessions (``actor``: the officer, "KAZ-NCB/kaz.duty1",
    # or the contact point for an API key; ``details``: ``via`` console or api, ``client`` the
    # address asking)
    OPENED = "opened"  # one alert's detail shown (alert_id set)
    LISTED = "listed"  # an inbox shown: ``details.alerts``, the ids of the alerts in it
    SIGNED_IN = "signed_in"
    SIGN_IN_REFUSED = "sign_in_refused"  # actor "anonymous": wrong password or no account
    SIGNED_OUT = "signed_out"
    # An analyst's reads of leads (``details.leads``: the lead ids shown or exported)
    LEADS_LISTED = "leads_listed"
    LEAD_OPENED = "lead_opened"
    LEADS_EXPORTED = "leads_exported"  # ``details.format``: json or csv
    # False-match suppressions (``details``: suppression_id, entry_id, country, expires_at)
    SUPPRESSION_PROPOSED = "suppression_proposed"  # an officer's false_match, to be confirmed
    SUPPRESSED = "suppressed"  # a supervisor's false_match, or an officer's confirmed
    SUPPRESSION_REVOKED = "suppression_revoked"
    SUPPRESSION_FORGOTTEN = "suppression_forgotten"  # long ended: the identity deleted
    MATCH_SUPPRESSED = "match_suppressed"  # matcher: no alert (alert_id: the one not raised)
    # Operations on the system (``actor``: the operator; ``details.principal``: the Kafka
    # user, ``details.host``: where from)
    WATCHLIST_LOADED = "watchlist_loaded"  # ``details``: file, format, published, cancelled
    ENTRY_CANCELLED = "entry_cancelled"  # ``details.entry_id``; a load's cancellations
    DLQ_REPLAYED = "dlq_replayed"  # ``details``: dlq topic, group, replayed, offsets
    SETTINGS_RELOADED = "settings_reloaded"  # ``details``: file, version in force, taken


# The actions that concern no one alert: their records have no ``alert_id``.
UNKEYED_AUDIT_ACTIONS = frozenset(
    {
        AuditAction.LISTED,
        AuditAction.SIGNED_IN,
        AuditAction.SIGN_IN_REFUSED,
        AuditAction.SIGNED_OUT,
        AuditAction.LEADS_LISTED,
        AuditAction.LEAD_OPENED,
        AuditAction.LEADS_EXPORTED,
        AuditAction.WATCHLIST_LOADED,
        AuditAction.ENTRY_CANCELLED,
        AuditAction.DLQ_REPLAYED,
        AuditAction.SETTINGS_RELOADED,
    }
)


# The JSON Schema form of ``_alert_unless_unkeyed``.
_ALERT_UNLESS_UNKEYED: JsonDict = {
    "if": {
        "properties": {"action": {"enum": [a.value for a in sorted(UNKEYED_AUDIT_ACTIONS)]}},
        "required": ["action"],
    },
    "else": {"required": ["alert_id"], "properties": {"alert_id": {"type": "string"}}},
}


class AuditRecord(Model):
    """One step of an alert's notification, or one read of personal data (who, when, what,
    from where). The topic is keyed by ``alert_id``, or by ``actor`` when there is none."""

    model_config = ConfigDict(json_schema_extra=_ALERT_UNLESS_UNKEYED)

    audit_id: Identifier
    alert_id: AlertId | None = None
    notification_id: NotificationId | None = None
    action: Annotated[AuditAction, Field(strict=False)]
    actor: Identifier  # service or person: "notifier", "KAZ-NCB/duty-officer"
    at: Timestamp
    details: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _alert_unless_unkeyed(self) -> AuditRecord:
        if self.alert_id is None and self.action not in UNKEYED_AUDIT_ACTIONS:
            raise ValueError(f"alert_id: required for action {self.action.value!r}")
        return self


class RevocationKind(StrEnum):
    SESSION = "session"  # a console session signed out
    LINK = "link"  # an acknowledgement link used once


class Revocation(Model):
    """A nonce no replica may accept again (``notifications.revocations``, key =
    ``<kind>:<nonce>``, compacted); worth keeping only until ``expires_at``."""

    kind: Annotated[RevocationKind, Field(strict=False)]
    nonce: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
    expires_at: Timestamp


class Cancellation(Model):
    """An entry was cancelled or removed: its alerts' pages stop and those paged are told
    (``notifications.cancellations``, key = ``alert_key(entry_id)``, so it reaches the notifier
    replica that owns the entry's alerts, whichever replica read the entry)."""

    entry_id: Identifier
    at: Timestamp
    reason: Comment
