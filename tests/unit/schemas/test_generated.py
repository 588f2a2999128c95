"""The published contract: JSON Schema and AsyncAPI files match the models and the catalogue."""

from __future__ import annotations

import json
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from schemas.generate import ASYNCAPI_PATH, render
from services.common.topics import load_catalogue

RENDERED = render()


@pytest.mark.parametrize("path", sorted(RENDERED), ids=lambda p: p.name)
def test_generated_file_has_not_drifted(path: Any) -> None:
    assert path.exists(), f"{path} missing: run `make schemas`"
    assert path.read_text(encoding="utf-8") == RENDERED[path], "drift: run `make schemas`"


@pytest.mark.parametrize(
    "path", [p for p in sorted(RENDERED) if p.suffix == ".json"], ids=lambda p: p.name
)
def test_json_schemas_are_valid_draft_2020_12(path: Any) -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(RENDERED[path]))


def test_asyncapi_lists_every_topic_with_key_headers_retention_and_services() -> None:
    doc = yaml.safe_load(RENDERED[ASYNCAPI_PATH])
    assert doc["asyncapi"].startswith("3.")
    catalogue = load_catalogue()
    assert set(doc["channels"]) == set(catalogue.names())
    messages = doc["components"]["messages"]
    for spec in catalogue.topics:
        channel = doc["channels"][spec.name]
        kafka = channel["bindings"]["kafka"]
        assert kafka["topicConfiguration"]["retention.ms"] == int(spec.config["retention.ms"])
        assert kafka["partitions"] == spec.partitions
        assert channel["x-producers"]
        assert channel["x-consumers"]
        [ref] = channel["messages"].values()
        message = messages[ref["$ref"].rsplit("/", 1)[1]]
        assert message["bindings"]["kafka"]["key"]["description"]
        headers = message["headers"]["properties"]
        if spec.name.endswith(".dlq"):
            assert {"relay-dlq-reason", "relay-dlq-field", "relay-dlq-service",
                    "relay-original-topic", "relay-original-partition",
                    "relay-original-offset"} <= set(headers)  # fmt: skip
        else:
            assert "relay-schema" in headers
            payload = ASYNCAPI_PATH.parent / message["payload"]["$ref"]
            assert payload.exists()
    operations = doc["operations"]
    assert operations["matcher.receive.events.border_crossing"]["action"] == "receive"
    assert operations["matcher.send.alerts"]["action"] == "send"
