"""Matcher settings (``RELAY_MATCHER_*`` plus the common ``RELAY_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from schemas.topics import TopicName
from services.common.settings import CommonSettings


class MatcherSettings(CommonSettings):
    matcher_group_id: str = Field("matcher", description="Consumer group screening events")
    matcher_retro_group_id: str = Field(
        "matcher-retro", description="Consumer group that retro-screens watchlist changes"
    )
    matcher_http_host: str = Field("127.0.0.1", description="Bind address of /healthz, /metrics")
    matcher_http_port: int = Field(9101, description="Port of /healthz, /readyz and /metrics")
    matcher_retro_days: float = Field(7.0, ge=0, description="Retro-screening window (days)")
    matcher_retro_enabled: bool = Field(True, description="Screen past events on entry changes")
    matcher_event_topics: list[TopicName] = Field(
        ["events.border_crossing", "events.document_check"], description="Event topics"
    )
    matcher_store_path: Path | None = Field(
        None,
        description="Directory of the disk-backed document store (LMDB), one per matcher "
        "process; unset: the whole watchlist in memory, read from the topic at every start",
    )
    matcher_store_max_age_s: float = Field(
        72_000.0,
        gt=0,
        description="A store not brought up to date for longer is rebuilt from the topic "
        "(keep below the topic's delete.retention.ms: older tombstones may be gone)",
    )
    matcher_commit_interval_s: float = Field(
        1.0, gt=0, description="How often processed offsets are committed (seconds)"
    )
    # Takeover: a replica that dies is dropped from its groups after the session timeout; the
    # others learn of the rebalance at their next heartbeat and serve its partitions at once
    # (each holds the whole watchlist: nothing to rebuild).
    matcher_session_timeout_ms: int = Field(
        6_000,
        ge=1_000,
        description="A matcher that stops heartbeating loses its partitions after this (ms; "
        "the broker's group.min.session.timeout.ms, 6000 by default, is the floor)",
    )
    matcher_heartbeat_interval_ms: int = Field(
        1_000, ge=100, description="How often a matcher heartbeats its groups (ms)"
    )
    matcher_max_poll_interval_ms: int = Field(
        60_000,
        ge=1_000,
        description="A matcher whose screening loop stalls (alive, not polling) for longer "
        "leaves the group and its partitions move (ms)",
    )
    matcher_retro_max_poll_interval_ms: int = Field(
        3_600_000,
        ge=1_000,
        description="The same for retro-screening, which polls again only after a scan of the "
        "window (ms; a longer scan would be taken over and repeated)",
    )

    @model_validator(mode="after")
    def _heartbeat_within_session(self) -> MatcherSettings:
        if self.matcher_heartbeat_interval_ms * 3 > self.matcher_session_timeout_ms:
            raise ValueError(
                "matcher_heartbeat_interval_ms must be at most a third of "
                "matcher_session_timeout_ms"
            )
        return self

    def group_timing(self, *, retro: bool = False) -> dict[str, int]:
        """Consumer options that bound how long a lost matcher's partitions stay unserved."""
        poll = (
            self.matcher_retro_max_poll_interval_ms if retro else self.matcher_max_poll_interval_ms
        )
        return {
            "session_timeout_ms": self.matcher_session_timeout_ms,
            "heartbeat_interval_ms": self.matcher_heartbeat_interval_ms,
            "max_poll_interval_ms": poll,
        }

    def event_topics(self) -> list[str]:
        """The physical names of the event topics the matcher screens."""
        return [self.topic(name) for name in self.matcher_event_topics]
