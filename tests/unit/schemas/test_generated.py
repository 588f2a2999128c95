"""The published contract: JSON Schema and AsyncAPI files match the models and the catalogue."""

from __future__ import annotations

import json
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from schemas.generate import ASYNCAPI_PATH, BORDER_AGENCY, SCHEMA_FORMAT, render
from schemas.topics import load_catalogue
from services.tooling.kafka_security import load_access_policy

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
            assert message["payload"]["schemaFormat"] == SCHEMA_FORMAT
            payload = ASYNCAPI_PATH.parent / message["payload"]["schema"]["$ref"]
            assert payload.exists()
    operations = doc["operations"]
    assert operations["matcher.receive.events.border_crossing"]["action"] == "receive"
    assert operations["matcher.send.alerts"]["action"] == "send"


def _granted(names: list[str], topic: str) -> bool:
    return any(
        n == "*" or n == topic or (n.endswith("*") and topic.startswith(n[:-1])) for n in names
    )


def test_asyncapi_producers_and_consumers_are_acl_principals_with_those_rights() -> None:
    doc = yaml.safe_load(ASYNCAPI_PATH.read_text())
    policy = load_access_policy()
    for name, channel in doc["channels"].items():
        for producer in channel["x-producers"]:
            if producer == BORDER_AGENCY:
                continue
            grants = policy.principals[producer].topics
            assert _granted(grants.write + grants.own, name), (producer, "write", name)
        for consumer in channel["x-consumers"]:
            grants = policy.principals[consumer].topics
            assert _granted(grants.read + grants.own, name), (consumer, "read", name)
    # What the notifier's code reads and writes beyond alerts (an entry it cannot route).
    entries = doc["channels"]["watchlist.entries"]
    assert "notifier" in entries["x-consumers"]
    assert "notifier" in doc["channels"]["watchlist.entries.dlq"]["x-producers"]
