"""Write the published contract: ``schemas/json/*.json`` and ``schemas/asyncapi.yaml``.

``python -m schemas.generate`` (or ``make schemas``) regenerates both from the models and the
topic catalogue; ``tests/unit/schemas/test_generated.py`` fails when the files drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from schemas.alert import Alert
from schemas.codec import SCHEMA_VERSIONS
from schemas.event import Event
from schemas.headers import DLQ_HEADERS, DLQ_REQUIRED, H_SCHEMA, RAW_HEADERS
from schemas.hit_report import HitReport
from schemas.lead import Lead
from schemas.listed_hit import ListedHit
from schemas.mrz import MrzResult
from schemas.notification import (
    Acknowledgement,
    AuditRecord,
    Cancellation,
    Escalation,
    Notification,
    Revocation,
)
from schemas.suppression import Suppression
from schemas.topics import Catalogue, TopicName, load_catalogue
from schemas.watchlist import WatchlistEntry

SCHEMAS_DIR = Path(__file__).resolve().parent
JSON_DIR = SCHEMAS_DIR / "json"
ASYNCAPI_PATH = SCHEMAS_DIR / "asyncapi.yaml"
BASE_ID = "https://notice-relay.example/schemas/"

MODELS: dict[str, type[BaseModel]] = {
    "event": Event,
    "alert": Alert,
    "watchlist_entry": WatchlistEntry,
    "notification": Notification,
    "acknowledgement": Acknowledgement,
    "escalation": Escalation,
    "audit_record": AuditRecord,
    "revocation": Revocation,
    "cancellation": Cancellation,
    "mrz_result": MrzResult,
    "lead": Lead,
    "hit_report": HitReport,
    "suppression": Suppression,
    "listed_hit": ListedHit,
}

# topic -> (message, key description, producers, consumers), named as the Kafka principals of
# deploy/acls.yaml (a test holds them to it). A topic missing here fails generation, so a new
# catalogue topic cannot go undocumented.
BORDER_AGENCY = "border-agency"  # the agencies' own principals, outside this project's ACLs
TOPICS: dict[TopicName, tuple[str, str, list[str], list[str]]] = {
    "ingest.raw": ("raw_event", "the agency's event id", [BORDER_AGENCY], ["ingest"]),
    "events.border_crossing": ("event", "traveller key", ["ingest"], ["matcher", "analyst"]),
    "events.document_check": ("event", "traveller key", ["ingest"], ["matcher", "analyst"]),
    "watchlist.entries": ("watchlist_entry", "entry_id", ["loader"], ["matcher", "notifier"]),
    "alerts": ("alert", "entry_id", ["matcher"], ["notifier", "analyst"]),
    "alerts.urgent": ("alert", "entry_id", ["matcher"], ["notifier"]),
    "notifications.deliveries": ("notification", "notification_id", ["notifier"], ["notifier"]),
    "notifications.acks": ("acknowledgement", "entry_id (as alerts)", ["notifier"], ["notifier"]),
    "notifications.cancellations": (
        "cancellation",
        "entry_id (as alerts)",
        ["notifier"],
        ["notifier"],
    ),
    "notifications.audit": (
        "audit_record",
        "alert_id, or actor",
        ["notifier", "matcher", "loader"],
        ["ops"],
    ),
    "notifications.revocations": ("revocation", "<kind>:<nonce>", ["notifier"], ["notifier"]),
    "leads": ("lead", "lead_id", ["analyst"], ["notifier", "analyst", "ops"]),
    # the analyst's history: events as ingest wrote them and hits (relay-schema says which)
    "analyst.sightings": ("listed_hit", "none (one partition)", ["analyst"], ["analyst"]),
    "hit_reports": ("hit_report", "entry_id (as alerts)", ["notifier"], ["notifier", "ops"]),
    "suppressions": ("suppression", "suppression_id", ["notifier"], ["matcher", "notifier", "ops"]),
}
DLQ_PRODUCERS: dict[TopicName, list[str]] = {
    "ingest.raw.dlq": ["ingest"],
    "events.dlq": ["matcher", "analyst"],
    "watchlist.entries.dlq": ["matcher", "notifier"],
    "alerts.dlq": ["notifier"],
}
# The payloads are JSON Schema 2020-12 documents (AsyncAPI's default is its own format).
SCHEMA_FORMAT = "application/schema+json;version=draft-2020-12"


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema (draft 2020-12) of what a producer must send."""
    out: dict[str, dict[str, Any]] = {}
    for name, model in MODELS.items():
        schema = model.model_json_schema(mode="validation")
        out[f"{name}.json"] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{BASE_ID}{name}.json",
            **schema,
        }
    return out


def _message(name: str, model: type[BaseModel] | None, key: str) -> dict[str, Any]:
    version = SCHEMA_VERSIONS.get(model) if model else None
    headers: dict[str, Any] = {"type": "object", "properties": {}}
    if version:
        headers["properties"][H_SCHEMA] = {
            "type": "string",
            "description": "Schema version <message>/<major>; see schemas/README.md.",
            "examples": [version],
        }
    message: dict[str, Any] = {
        "name": name,
        "contentType": "application/json",
        "headers": headers,
        "bindings": {"kafka": {"key": {"type": "string", "description": key}}},
    }
    schema = {"$ref": f"json/{_file_for(model)}"} if model else {}
    message["payload"] = {"schemaFormat": SCHEMA_FORMAT, "schema": schema}
    return message


def _file_for(model: type[BaseModel]) -> str:
    return next(f"{name}.json" for name, m in MODELS.items() if m is model)


def _dead_letter() -> dict[str, Any]:
    message = _message("dead_letter", None, "the original record's key, unchanged")
    message["summary"] = "The original record's value, byte for byte (may be unreadable)."
    message["headers"]["properties"].update(
        {name: {"type": "string", "description": text} for name, text in DLQ_HEADERS.items()}
    )
    message["headers"]["required"] = list(DLQ_REQUIRED)
    return message


def _raw_event(key: str) -> dict[str, Any]:
    """An event as an agency writes it to ingest.raw: signed, in headers, as its agency."""
    message = _message("raw_event", Event, key)
    message["headers"]["properties"].update(
        {name: {"type": "string", "description": text} for name, text in RAW_HEADERS.items()}
    )
    message["headers"]["required"] = list(RAW_HEADERS)
    return message


def _channel(spec: Any, message: str, producers: list[str], consumers: list[str]) -> Any:
    config: dict[str, Any] = {
        "cleanup.policy": spec.config["cleanup.policy"].split(","),
        "retention.ms": int(spec.config["retention.ms"]),
    }
    return {
        "address": spec.name,
        "description": spec.description,
        "messages": {message: {"$ref": f"#/components/messages/{message}"}},
        "bindings": {
            "kafka": {
                "topic": spec.name,
                "partitions": spec.partitions,
                "replicas": spec.replication_factor,
                "topicConfiguration": config,
                "bindingVersion": "0.5.0",
            }
        },
        "x-producers": producers,
        "x-consumers": consumers,
    }


def _topic_roles(name: TopicName) -> tuple[str, list[str], list[str]]:
    if name in DLQ_PRODUCERS:
        return "dead_letter", DLQ_PRODUCERS[name], ["ops"]
    if name not in TOPICS:
        raise KeyError(f"topic {name!r} is in deploy/topics.yaml but not in schemas/generate.py")
    message, _key, producers, consumers = TOPICS[name]
    return message, producers, consumers


def asyncapi(catalogue: Catalogue) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for spec in catalogue.topics:
        message, producers, consumers = _topic_roles(spec.name)
        channels[spec.name] = _channel(spec, message, producers, consumers)
        ref = {"$ref": f"#/channels/{spec.name}"}
        msg_ref = [{"$ref": f"#/channels/{spec.name}/messages/{message}"}]
        for action, services in (("send", producers), ("receive", consumers)):
            for service in services:
                operations[f"{service}.{action}.{spec.name}"] = {
                    "action": action,
                    "channel": ref,
                    "messages": msg_ref,
                }
    messages = {"dead_letter": _dead_letter()}
    for message, key, _p, _c in TOPICS.values():
        if message == "raw_event":
            messages.setdefault(message, _raw_event(key))
        else:
            messages.setdefault(message, _message(message, MODELS[message], key))
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "notice-relay",
            "version": "1.0.0",
            "description": "Topics, keys, messages and headers of notice-relay (generated by "
            "`make schemas` from schemas/ and deploy/topics.yaml; do not edit).",
        },
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "localhost:9092", "protocol": "kafka"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render() -> dict[Path, str]:
    """Every generated file and its exact text."""
    files = {
        JSON_DIR / name: json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        for name, schema in json_schemas().items()
    }
    text = yaml.safe_dump(asyncapi(load_catalogue()), sort_keys=False, allow_unicode=True)
    files[ASYNCAPI_PATH] = "# Generated by `make schemas`; do not edit.\n" + text
    return files


def main() -> None:
    JSON_DIR.mkdir(exist_ok=True)
    for path, text in render().items():
        path.write_text(text, encoding="utf-8")
        print(path.relative_to(SCHEMAS_DIR.parent))


if __name__ == "__main__":
    main()
