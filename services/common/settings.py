"""Settings shared by every component; each service subclasses `CommonSettings` once.

Every field is read from an environment variable with the prefix ``RELAY_`` (``kafka_bootstrap``
-> ``RELAY_KAFKA_BOOTSTRAP``) or from a ``.env`` file. Settings are built once at start-up and
passed down; domain code never reads the environment.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.topics import TopicName

REPO_ROOT = Path(__file__).resolve().parents[2]


MIN_SECRET_LENGTH = 32
# Words that mark a value copied from an example rather than generated.
_PLACEHOLDER_WORDS = ("change-me", "changeme", "change_me", "replace", "example", "placeholder",
                      "secret", "password", "default", "xxxx")  # fmt: skip


def strong_secret(value: SecretStr, field: str) -> SecretStr:
    """Refuse a short, placeholder or low-variety secret: a signing key must be generated.

    ``relay run`` generates one (``relay demo secrets``); elsewhere the operator sets it.
    """
    text = value.get_secret_value()
    if len(text) < MIN_SECRET_LENGTH:
        raise ValueError(f"{field} must be at least {MIN_SECRET_LENGTH} characters")
    lowered = text.lower()
    if any(word in lowered for word in _PLACEHOLDER_WORDS) or len(set(text)) < 12:
        raise ValueError(f"{field} looks like a placeholder: generate a random one")
    return value


class SecurityProtocol(StrEnum):
    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class LogFormat(StrEnum):
    AUTO = "auto"  # console renderer on a TTY, JSON otherwise
    JSON = "json"
    CONSOLE = "console"


class CommonSettings(BaseSettings):
    """Kafka connection and logging, the same for every service and the CLI."""

    # Frozen: built once in ``__main__`` and passed down, never changed on the way.
    model_config = SettingsConfigDict(
        env_prefix="RELAY_", env_file=".env", extra="ignore", frozen=True
    )

    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers")
    kafka_security_protocol: SecurityProtocol = Field(
        SecurityProtocol.PLAINTEXT, description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"
    )
    kafka_sasl_mechanism: str = Field("SCRAM-SHA-512", description="SASL mechanism")
    kafka_sasl_username: str | None = Field(None, description="SASL user (principal)")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password")
    kafka_ssl_cafile: Path | None = Field(None, description="CA bundle for SSL listeners")
    kafka_client_id: str = Field("notice-relay", description="Kafka client id prefix")
    topic_prefix: str = Field("", description="Prefix added to every topic name (tests)")
    log_level: str = Field("info", description="debug, info, warning, error")
    log_format: LogFormat = Field(LogFormat.AUTO, description="auto, json or console")
    log_pii: bool = Field(False, description="Log names, birth dates and document numbers")
    http_header_timeout_s: float = Field(
        10.0, gt=0, description="A request's headers must arrive within this (HTTP services)"
    )
    http_body_timeout_s: float = Field(
        30.0, gt=0, description="A request's body must arrive within this after its headers"
    )
    http_pending_per_client: int = Field(
        32, ge=1, description="Incomplete connections per client address; more evict the oldest"
    )
    http_trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses whose X-Forwarded-For/-Proto are believed (none: never)",
    )
    metrics_token: SecretStr | None = Field(
        None, description="If set, /metrics needs Authorization: Bearer <token>"
    )

    def topic(self, name: TopicName) -> str:
        """The physical topic name for a catalogue name (mypy checks it is one)."""
        return f"{self.topic_prefix}{name}"

    def group(self, name: str) -> str:
        """Group ids carry the topic prefix so parallel test runs never share a group."""
        return f"{self.topic_prefix}{name}"
