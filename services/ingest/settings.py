"""Ingest's settings (``RELAY_INGEST_*``), built once in ``__main__`` and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.common.settings import REPO_ROOT, CommonSettings

EXAMPLE_AGENCIES = REPO_ROOT / "deploy" / "ingest" / "agencies.example.yaml"


class IngestSettings(CommonSettings):
    """HTTP server, limits, durability and the raw Kafka intake of the ingest service."""

    ingest_http_host: str = Field("127.0.0.1", description="Address the HTTP API listens on")
    ingest_http_port: int = Field(8080, ge=0, le=65535, description="HTTP API port")
    ingest_agencies_file: Path = Field(
        EXAMPLE_AGENCIES,
        description="YAML file of agencies: hashed API keys, intake secrets, countries",
    )
    ingest_batch_max: int = Field(500, ge=1, description="Most events in one batch request")
    ingest_max_event_bytes: int = Field(65_536, ge=1024, description="Body limit of one event")
    ingest_max_batch_bytes: int = Field(
        4_194_304, ge=1024, description="Body limit of a batch request"
    )
    ingest_rate_per_s: float = Field(
        1000.0, gt=0, description="Events per second an agency may send (unless its entry says)"
    )
    ingest_rate_burst: float = Field(
        2000.0, ge=1, description="Token bucket size: events an agency may send at once"
    )
    ingest_max_in_flight: int = Field(
        20_000, ge=1, description="Events produced but not yet acknowledged, at most"
    )
    ingest_http_max_concurrency: int = Field(
        1000, ge=1, description="Open HTTP requests at most; more get 503 from the server"
    )
    ingest_send_timeout_s: float = Field(
        5.0, gt=0, description="How long a request waits for the broker's acknowledgement"
    )
    ingest_retry_after_s: int = Field(2, ge=1, description="Retry-After sent with 503")
    ingest_ready_cache_s: float = Field(1.0, ge=0, description="How long /readyz trusts a check")
    ingest_recent_ids: int = Field(
        100_000, ge=0, description="Recently published event ids kept to skip resends"
    )
    ingest_raw_enabled: bool = Field(True, description="Consume the ingest.raw Kafka intake")
    ingest_raw_group: str = Field("relay-ingest-raw", description="Consumer group of ingest.raw")
    ingest_raw_signature_tolerance_s: float = Field(
        300.0,
        gt=0,
        description="How far a raw record's relay-signature-timestamp may lie from the time "
        "the record was written to ingest.raw",
    )
    ingest_raw_replay_window_s: float = Field(
        604_800.0,
        gt=0,
        description="How much older the signature of a record put back by `relay dlq replay` "
        "may be (ingest.raw.dlq's retention)",
    )
