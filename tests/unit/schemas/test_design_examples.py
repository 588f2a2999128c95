"""Every DESIGN.md example validates; mutated copies are rejected with the field named."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from pydantic import BaseModel, ValidationError

from schemas.alert import Alert
from schemas.codec import encode
from schemas.errors import describe_errors
from schemas.event import Event
from schemas.watchlist import WatchlistEntry
from tests.unit.schemas.examples import EVENT, RED_NOTICE, SLTD, design_alert

JSON_DIR = Path(__file__).resolve().parents[3] / "schemas" / "json"
DELETE = object()

EXAMPLES: list[tuple[str, type[BaseModel], dict[str, Any], str]] = [
    ("red_notice", WatchlistEntry, RED_NOTICE, "watchlist_entry.json"),
    ("sltd", WatchlistEntry, SLTD, "watchlist_entry.json"),
    ("event", Event, EVENT, "event.json"),
    ("alert", Alert, design_alert(), "alert.json"),
]


def mutated(example: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy with ``path`` ("a.b.0.c") set to value, or removed for DELETE."""
    copied = copy.deepcopy(example)
    *parents, last = path.split(".")
    node: Any = copied
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    key: Any = int(last) if last.isdigit() else last
    if value is DELETE:
        del node[key]
    else:
        node[key] = value
    return copied


@pytest.mark.parametrize(("name", "model", "example", "schema_file"), EXAMPLES)
def test_example_validates_against_model_and_json_schema(
    name: str, model: type[BaseModel], example: dict[str, Any], schema_file: str
) -> None:
    parsed = model.model_validate_json(json.dumps(example))
    assert model.model_validate_json(encode(parsed)) == parsed
    dumped = parsed.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    # timestamps may gain digits (".041" -> ".041000"); everything else comes back as sent
    assert {k: v for k, v in dumped.items() if not k.endswith("_at")} == {
        k: v for k, v in example.items() if not k.endswith("_at")
    }
    schema = json.loads((JSON_DIR / schema_file).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(example)


TEN_KB_NAME = "A" * 10_240
RLO_NAME = "KHOL\u202eMATOV"

# (example, path, value, field the error must name, rule)
MUTATIONS: list[tuple[str, str, Any, str, str]] = [
    # missing field
    ("event", "traveller.surname", DELETE, "traveller.surname", "missing"),
    ("event", "occurred_at", DELETE, "occurred_at", "missing"),
    ("event", "direction", DELETE, "direction", "direction_required"),
    ("red_notice", "issuer", DELETE, "issuer", "missing"),
    ("red_notice", "person", DELETE, "person", "person_required"),
    ("sltd", "document", DELETE, "document", "document_required"),
    ("alert", "entry_id", DELETE, "entry_id", "missing"),
    ("alert", "explanation.0.how", DELETE, "explanation[0].how", "missing"),
    # wrong type
    ("event", "traveller.surname", 123, "traveller.surname", "string_type"),
    ("event", "occurred_at", 1_700_000_000, "occurred_at", "timestamp_type"),
    ("event", "document.mrz", "P<UZB", "document.mrz", "list_type"),
    ("alert", "score", "0.97", "score", "float_type"),
    ("alert", "band", "maybe", "band", "enum"),
    ("red_notice", "person.nationalities", "UZB", "person.nationalities", "list_type"),
    # unknown country
    ("event", "traveller.nationality", "XYZ", "traveller.nationality", "country_code"),
    ("event", "country", "kaz", "country", "country_code"),
    ("event", "document.issuing_state", "UZ", "document.issuing_state", "country_code"),
    ("red_notice", "dissemination.restricted_to.0", "XYZ", "dissemination.restricted_to[0]",
     "country_code"),
    ("alert", "issuer", "XYZ", "issuer", "country_code"),
    ("sltd", "document.issuing_state", "XYZ", "document.issuing_state", "country_code"),
    # impossible date
    ("event", "traveller.date_of_birth", "2025-02-30", "traveller.date_of_birth",
     "impossible_date"),
    ("red_notice", "person.date_of_birth", "2025-02-30", "person.date_of_birth", "impossible_date"),
    ("event", "document.expiry_date", "2025-02-30", "document.expiry_date", "impossible_date"),
    ("event", "document.expiry_date", "2031-05", "document.expiry_date", "full_date"),
    # a 10 KB name
    ("event", "traveller.surname", TEN_KB_NAME, "traveller.surname", "string_too_long"),
    ("red_notice", "person.names.1.given_names", TEN_KB_NAME, "person.names[1].given_names",
     "string_too_long"),
    # a right-to-left override hidden in a name
    ("event", "traveller.surname", RLO_NAME, "traveller.surname", "name_bidi_char"),
    ("red_notice", "person.names.0.patronymic", RLO_NAME, "person.names[0].patronymic",
     "name_bidi_char"),
    ("event", "traveller.given_names", "ALI\u200bSHER", "traveller.given_names",
     "name_zero_width_char"),
    ("event", "traveller.given_names", "ALI\nSHER", "traveller.given_names", "name_control_char"),
]  # fmt: skip

BY_NAME = {name: (model, example) for name, model, example, _ in EXAMPLES}


@pytest.mark.parametrize(("name", "path", "value", "field", "rule"), MUTATIONS)
def test_mutation_is_rejected_naming_the_field(
    name: str, path: str, value: Any, field: str, rule: str
) -> None:
    model, example = BY_NAME[name]
    with pytest.raises(ValidationError) as caught:
        model.model_validate_json(json.dumps(mutated(example, path, value)))
    records = describe_errors(caught.value)
    assert {"field": field, "rule": rule} in [
        {"field": r["field"], "rule": r["rule"]} for r in records
    ], records
    assert all(r["message"] for r in records)
    # the message never echoes a whole 10 KB name back
    assert all(len(r["message"]) < 300 for r in records)


def test_bidi_message_names_the_character_and_position() -> None:
    bad = mutated(EVENT, "traveller.surname", RLO_NAME)
    with pytest.raises(ValidationError) as caught:
        Event.model_validate_json(json.dumps(bad))
    [record] = describe_errors(caught.value)
    assert "U+202E" in record["message"]
    assert "position 4" in record["message"]


@pytest.mark.parametrize(
    ("name", "schema_file", "path", "value"),
    [
        ("event", "event.json", "traveller.surname", DELETE),
        ("event", "event.json", "traveller.surname", 123),
        ("event", "event.json", "country", "kz"),
        ("alert", "alert.json", "score", 1.5),
        ("red_notice", "watchlist_entry.json", "list", "purple_notice"),
        ("event", "event.json", "traveller.date_of_birth", "03/02/1985"),
    ],
)
def test_json_schema_rejects_mutations(name: str, schema_file: str, path: str, value: Any) -> None:
    _model, example = BY_NAME[name]
    schema = json.loads((JSON_DIR / schema_file).read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(mutated(example, path, value))


def test_watchlist_entry_schema_needs_the_subject_of_its_list() -> None:
    schema = WatchlistEntry.model_json_schema(mode="validation")  # what schemas/json holds
    validator = jsonschema.Draft202012Validator(schema)
    base = {"entry_id": "DIF-1", "status": "active", "issuer": "UZB", "action": "locate"}
    person = {"names": [{"surname": "KARIMOV"}]}
    document = {"number": "AA1234567", "issuing_state": "UZB", "status": "stolen"}
    assert not validator.is_valid({**base, "list": "diffusion"})  # no person
    assert not validator.is_valid({**base, "list": "diffusion", "person": None})
    assert not validator.is_valid({**base, "list": "sltd"})  # no document
    assert validator.is_valid({**base, "list": "diffusion", "person": person})
    assert validator.is_valid({**base, "list": "sltd", "document": document})
