"""Matcher settings (``RELAY_MATCHER_*`` plus the common ``RELAY_*``)."""

from __future__ import annotations

from pydantic import Field

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
    matcher_commit_interval_s: float = Field(
        1.0, gt=0, description="How often processed offsets are committed (seconds)"
    )

    def event_topics(self) -> list[str]:
        """The physical names of the event topics the matcher screens."""
        return [self.topic(name) for name in self.matcher_event_topics]
