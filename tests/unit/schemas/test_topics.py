"""Topic names have one home (``schemas.topics.TopicName``); the catalogue file must agree."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from schemas.topics import CATALOGUE_PATH, TOPIC_NAMES, load_catalogue, topic_name


def test_the_catalogue_lists_every_topic_name_once() -> None:
    assert sorted(load_catalogue().names()) == sorted(TOPIC_NAMES)


def _catalogue_with(tmp_path: Path, names: list[str]) -> Path:
    raw = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    template = raw["topics"][0]
    raw["topics"] = [{**template, "name": name} for name in names]
    path = tmp_path / "topics.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_a_catalogue_missing_a_topic_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"alerts\.urgent"):
        load_catalogue(_catalogue_with(tmp_path, [n for n in TOPIC_NAMES if n != "alerts.urgent"]))


def test_a_catalogue_naming_an_unknown_topic_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        load_catalogue(_catalogue_with(tmp_path, [*TOPIC_NAMES, "alerts.sms"]))


def test_an_operator_may_name_only_a_catalogue_topic() -> None:
    assert topic_name("alerts") == "alerts"
    with pytest.raises(LookupError, match=r"no\.such\.topic"):
        topic_name("no.such.topic")
