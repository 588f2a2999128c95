"""Topic names, the wire's addresses, and the catalogue (``deploy/topics.yaml``) that shapes them.

``TopicName`` is the one list of names: mypy checks every ``settings.topic("alerts")`` against
it, and loading a catalogue that lists other names, or misses one, fails. The prefix a
deployment or a test adds stays with the settings (``CommonSettings.topic``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, Field, model_validator

TopicName = Literal[
    "ingest.raw",
    "ingest.raw.dlq",
    "events.border_crossing",
    "events.document_check",
    "events.dlq",
    "watchlist.entries",
    "watchlist.entries.dlq",
    "alerts",
    "alerts.urgent",
    "alerts.dlq",
    "notifications.deliveries",
    "notifications.acks",
    "notifications.cancellations",
    "notifications.audit",
    "notifications.revocations",
    "leads",
    "analyst.sightings",
    "hit_reports",
    "suppressions",
]
TOPIC_NAMES: tuple[TopicName, ...] = get_args(TopicName)

CATALOGUE_PATH = Path(__file__).resolve().parents[1] / "deploy" / "topics.yaml"


def topic_name(text: str) -> TopicName:
    """A catalogue name typed by an operator; LookupError for any other text."""
    for name in TOPIC_NAMES:
        if name == text:
            return name
    raise LookupError(f"{text} is not a catalogue topic ({', '.join(TOPIC_NAMES)})")


class TopicSpec(BaseModel):
    name: TopicName
    description: str = ""
    partitions: int = Field(ge=1)
    replication_factor: int = Field(1, ge=1)
    config: dict[str, str] = Field(default_factory=dict)


class Catalogue(BaseModel):
    topics: list[TopicSpec]

    @model_validator(mode="after")
    def _every_name_once(self) -> Catalogue:
        listed = [spec.name for spec in self.topics]
        if sorted(listed) != sorted(TOPIC_NAMES):
            missing = sorted(set(TOPIC_NAMES) - set(listed))
            raise ValueError(f"the catalogue must list each topic once; missing: {missing}")
        return self

    def get(self, name: str) -> TopicSpec:
        for spec in self.topics:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def names(self) -> list[TopicName]:
        return [spec.name for spec in self.topics]


def load_catalogue(path: Path = CATALOGUE_PATH, replication_factor: int | None = None) -> Catalogue:
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    defaults = raw.get("defaults", {})
    topics = []
    for entry in raw["topics"]:
        config = {**defaults.get("config", {}), **entry.get("config", {})}
        topics.append(
            TopicSpec(
                name=entry["name"],
                description=entry.get("description", ""),
                partitions=entry["partitions"],
                replication_factor=replication_factor
                or entry.get("replication_factor", defaults.get("replication_factor", 1)),
                config={k: str(v) for k, v in config.items()},
            )
        )
    return Catalogue(topics=topics)
