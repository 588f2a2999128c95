"""Kafka header names: every header notice-relay writes or reads, in one place.

``schemas/asyncapi.yaml`` documents the ones a consumer outside this project meets
(``RAW_HEADERS``, ``DLQ_HEADERS``; ``python -m schemas.generate``).
"""

from __future__ import annotations

# On every model message: ``<message>/<major>`` (``schemas.codec``).
H_SCHEMA = "relay-schema"

# Raw intake: set by an agency's producer on ingest.raw (``schemas.intake`` signs over them).
H_AGENCY = "relay-agency"
H_SIGNATURE = "relay-signature"
H_SIGNATURE_TIMESTAMP = "relay-signature-timestamp"
# On canonical events, beside relay-agency: the agency's own event id.
H_EVENT_ID = "relay-event-id"

# On every dead-letter record (``services.common.fate``).
H_REASON = "relay-dlq-reason"
H_FIELD = "relay-dlq-field"
H_ERROR = "relay-dlq-error"
H_SERVICE = "relay-dlq-service"
H_AT = "relay-dlq-at"
H_ATTEMPTS = "relay-dlq-attempts"
H_TOPIC = "relay-original-topic"
H_PARTITION = "relay-original-partition"
H_OFFSET = "relay-original-offset"
H_TIMESTAMP = "relay-original-timestamp"
# On a record replayed from a dead-letter topic (``relay dlq replay``).
H_REPLAYED_FROM = "relay-replayed-from"
H_REPLAYED_AT = "relay-replayed-at"
H_REPLAY_COUNT = "relay-replay-count"

# On delivery jobs (notifications.deliveries).
H_NOTIFICATION_ID = "relay-notification-id"
H_RECIPIENT = "relay-recipient"

RAW_HEADERS: dict[str, str] = {
    H_AGENCY: "The id of the agency that sends the record (its `reported_by`).",
    H_SIGNATURE: "`v1,<base64 HMAC-SHA256>` under one of the agency's intake secrets over "
    "`<agency>.<base64 key>.<timestamp>.<value>`; several may be space-separated.",
    H_SIGNATURE_TIMESTAMP: "When the record was signed, unix seconds; ingest refuses one too "
    "far from the time the record was written to the topic.",
}

DLQ_HEADERS: dict[str, str] = {
    H_REASON: "Why the record was dead-lettered, naming the field and rule.",
    H_FIELD: "The field path at fault, when there is one (traveller.surname).",
    H_SERVICE: "The service that dead-lettered it (ingest, matcher, notifier).",
    H_TOPIC: "The topic the record was read from.",
    H_PARTITION: "Its partition (decimal text).",
    H_OFFSET: "Its offset (decimal text).",
}
DLQ_REQUIRED = (H_REASON, H_SERVICE)
