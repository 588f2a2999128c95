"""The notifier's settings (env prefix RELAY_, e.g. RELAY_NOTIFIER_HTTP_PORT)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from schemas.alert import Urgency
from schemas.watchlist import ListKind
from services.common import gcpolicy
from services.common.settings import REPO_ROOT, CommonSettings, strong_secret
from services.notifier.domain.words import OIDC_LABEL

EXAMPLE_DIRECTORY = REPO_ROOT / "deploy" / "notifier" / "contact-points.example.yaml"


class NotifierSettings(CommonSettings):
    notifier_http_host: str = Field("127.0.0.1", description="Ack API / health bind address")
    notifier_http_port: int = Field(8081, description="Ack API / health port (0 = any free)")
    notifier_public_url: str = Field(
        "http://127.0.0.1:8081", description="Base URL of the ack API used in signed links"
    )
    notifier_directory_path: Path = Field(EXAMPLE_DIRECTORY, description="Contact-point YAML")
    notifier_directory_poll_s: float = Field(2.0, description="How often to check the file")
    notifier_group_id: str = Field("notifier", description="Consumer group for alerts/entries")
    notifier_escalation_delay_s: float = Field(300.0, description="Ack deadline per level")
    notifier_outcome_deadline_s: float = Field(
        12 * 3600.0,
        gt=0,
        description="An alert's outcome is due this long after it was raised; then the "
        "country's supervisor desk and the coordination centre are reminded (12-hour rule)",
    )
    notifier_outcome_deadlines: dict[str, float] = Field(
        default_factory=dict,
        description="Per list and urgency (JSON object of seconds; keys LIST:URGENCY, LIST or "
        'URGENCY, the most specific wins), e.g. {"red_notice:urgent": 3600}',
    )
    notifier_dedup_window_s: float = Field(3600.0, description="Same person+entry window")
    notifier_webhook_timeout_s: float = Field(5.0, description="Per-request timeout")
    notifier_webhook_client: Literal["aiohttp", "lean"] = Field(
        "lean",
        description="HTTP client of the webhook channel (lean: plain asyncio HTTP/1.1, the least "
        "CPU per request; aiohttp: the library path)",
    )
    notifier_retry_base_s: float = Field(1.0, description="First retry delay")
    notifier_retry_max_s: float = Field(300.0, description="Longest retry delay")
    notifier_max_attempts: int = Field(50, description="Attempts before dead-lettering")
    notifier_breaker_failures: int = Field(5, description="Failures in a row that open it")
    notifier_breaker_open_s: float = Field(10.0, description="Cool-down before a probe")
    notifier_lane_concurrency: int = Field(
        32, ge=1, description="Requests in flight per endpoint (its keep-alive pool size)"
    )
    notifier_retention_s: float = Field(
        30 * 86400, description="Closed alerts are tombstoned (deliveries topic) after this long"
    )
    notifier_retention_sweep_s: float = Field(3600.0, description="How often to look for them")
    notifier_memory_window_s: float = Field(
        900.0,
        description="Closed alerts stay in memory (console inbox) this long, then are read back "
        "from the deliveries topic when needed; open alerts always stay",
    )
    notifier_memory_closed_per_country: int = Field(
        1000, description="At most this many closed alerts per country in memory (newest)"
    )
    notifier_memory_sweep_s: float = Field(10.0, description="How often memory is trimmed")
    # Takeover: a replica that dies loses its alerts partitions after the session timeout; the
    # others take them at their next heartbeat and read what is left of their deliveries.
    notifier_session_timeout_ms: int = Field(
        6_000,
        ge=1_000,
        description="A notifier that stops heartbeating loses its partitions after this (ms; "
        "the broker's group.min.session.timeout.ms, 6000 by default, is the floor)",
    )
    notifier_heartbeat_interval_ms: int = Field(
        1_000,
        ge=100,
        description="How often a notifier heartbeats its group (ms; at most a third of the "
        "session timeout)",
    )
    notifier_commit_interval_s: float = Field(
        1.0,
        ge=0,
        description="At most one offset commit per this many seconds (0: one per batch); a "
        "restart reads again at most this much, which routes no job twice",
    )
    notifier_gc_young_threshold: int = Field(
        gcpolicy.STATEFUL_YOUNG_THRESHOLD,
        ge=100,
        description="Objects allocated between two young collections; a collection's pause "
        "grows with it (9-18 ms at 5,000 in bench-notifier); its total CPU barely changes",
    )
    notifier_full_gc_s: float = Field(
        6 * 3600.0,
        description="How often the collector scans the whole heap (a pause of 20-60 ms per "
        "1,000 alerts in memory); the notifier makes no cyclic garbage in its steady work",
    )
    # No defaults: a notifier refuses to start until these are set (``relay run`` makes them).
    notifier_link_secret: SecretStr = Field(
        description="HMAC key of ack links (32+ random characters)"
    )
    notifier_session_secret: SecretStr = Field(
        description="HMAC key of console sessions and CSRF tokens (32+ random characters, not "
        "the link secret)"
    )
    notifier_session_previous_secrets: list[SecretStr] = Field(
        default_factory=list,
        description="Former session secrets still accepted (JSON list): rotate by moving the "
        "current one here, then drop it after a session's lifetime",
    )
    notifier_session_ttl_s: int = Field(
        12 * 3600, ge=60, le=86400, description="A console session lasts this long from sign-in"
    )
    notifier_accounts_path: Path | None = Field(
        None,
        description="Console accounts YAML (named officers, roles, argon2 password hashes; "
        "see deploy/notifier/console-accounts.example.yaml); unset: nobody can sign in",
    )
    notifier_oidc_issuer: str | None = Field(
        None, description="OpenID Connect issuer URL for console sign-in (unset: passwords only)"
    )
    notifier_oidc_client_id: str = Field("notice-relay-console", description="OIDC client id")
    notifier_oidc_client_secret: SecretStr | None = Field(
        None, description="OIDC client secret (unset: a public client with PKCE only)"
    )
    notifier_oidc_label: str = Field(OIDC_LABEL, description="The console's OIDC button")
    notifier_link_ttl_s: int = Field(
        8 * 3600, ge=60, le=86400, description="Ack links stay valid this long (one use each)"
    )
    notifier_smtp_host: str = Field("127.0.0.1", description="SMTP relay host")
    notifier_smtp_port: int = Field(25, description="SMTP relay port")
    notifier_smtp_starttls: bool = Field(False, description="Use STARTTLS")
    notifier_smtp_username: str | None = Field(None, description="SMTP user")
    notifier_smtp_password: SecretStr | None = Field(None, description="SMTP password")
    notifier_smtp_from: str = Field("notice-relay@localhost", description="Envelope sender")
    notifier_smtp_timeout_s: float = Field(10.0, description="SMTP timeout")
    notifier_suppression_days: float = Field(
        90.0, gt=0, le=365,
        description="How long a confirmed false match keeps its (traveller, entry) pair from "
        "alerting (days; the suppressions topic keeps a pair 400 days after its last change)",
    )  # fmt: skip
    notifier_suppression_forget_days: float = Field(
        30.0, ge=0, le=365,
        description="Days after a suppression expired or was revoked (or a proposal lapsed "
        "unconfirmed) before its record, with the traveller's identity, is deleted",
    )  # fmt: skip

    def group_timing(self) -> dict[str, int]:
        """Consumer options that bound how long a lost notifier's partitions stay unserved."""
        heartbeat = min(self.notifier_heartbeat_interval_ms, self.notifier_session_timeout_ms // 3)
        return {
            "session_timeout_ms": self.notifier_session_timeout_ms,
            "heartbeat_interval_ms": heartbeat,
        }

    @field_validator("notifier_outcome_deadlines")
    @classmethod
    def _deadline_keys(cls, value: dict[str, float]) -> dict[str, float]:
        return outcome_deadline_keys(value)

    @field_validator("notifier_link_secret", "notifier_session_secret")
    @classmethod
    def _strong(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        return strong_secret(value, f"RELAY_{str(info.field_name).upper()}")

    @model_validator(mode="after")
    def _keys_apart(self) -> NotifierSettings:
        link = self.notifier_link_secret.get_secret_value()
        if link == self.notifier_session_secret.get_secret_value():
            raise ValueError("the session secret must differ from the link secret")
        return self


def outcome_deadline_keys(value: dict[str, float]) -> dict[str, float]:
    """Each key a list, an urgency, or ``<list>:<urgency>``; each value positive."""
    lists, urgencies = {k.value for k in ListKind}, {u.value for u in Urgency}
    for key, seconds in value.items():
        head, colon, tail = key.partition(":")
        known = (head in lists and tail in urgencies) if colon else head in lists | urgencies
        if not known or seconds <= 0:
            raise ValueError(
                f"notifier_outcome_deadlines: {key!r} must be <list>, <urgency> or "
                "<list>:<urgency> with a positive number of seconds"
            )
    return value
