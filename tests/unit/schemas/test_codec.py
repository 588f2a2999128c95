"""Codec round trips, schema-version headers, strict intake and deterministic ids."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.alert import Alert, alert_id_for
from schemas.codec import (
    SchemaVersionError,
    check_schema_header,
    decode_alert,
    decode_entry,
    decode_event,
    decode_event_strict,
    encode,
    find_unknown_fields,
    schema_header,
)
from schemas.errors import describe_errors, summarise_errors
from schemas.event import Event
from schemas.notification import notification_id_for
from schemas.watchlist import WatchlistEntry
from tests.unit.schemas.examples import EVENT, RED_NOTICE, SLTD, design_alert


def test_round_trips() -> None:
    event = decode_event(json.dumps(EVENT).encode())
    assert decode_event(encode(event)) == event
    alert = decode_alert(json.dumps(design_alert()))
    assert decode_alert(encode(alert)) == alert
    for entry in (RED_NOTICE, SLTD):
        decoded = decode_entry(orjson.dumps(entry))
        assert decode_entry(encode(decoded)) == decoded


def test_encode_leaves_out_absent_fields_and_keeps_scripts() -> None:
    encoded = orjson.loads(encode(decode_entry(orjson.dumps(RED_NOTICE))))
    assert "document" not in encoded
    assert encoded["person"]["names"][1]["surname"] == "Холматов"


def test_newer_producer_fields_are_ignored_on_internal_topics() -> None:
    newer = {**EVENT, "risk_hint": "x", "traveller": {**EVENT["traveller"], "height_cm": 180}}
    assert decode_event(orjson.dumps(newer)) == decode_event(orjson.dumps(EVENT))


def test_strict_intake_names_unknown_fields() -> None:
    newer = {**EVENT, "risk_hint": "x", "traveller": {**EVENT["traveller"], "height_cm": 180}}
    with pytest.raises(ValidationError) as caught:
        decode_event_strict(orjson.dumps(newer))
    fields = {r["field"] for r in describe_errors(caught.value)}
    assert fields == {"risk_hint", "traveller.height_cm"}
    assert decode_event_strict(orjson.dumps(EVENT)) == decode_event(orjson.dumps(EVENT))


def test_find_unknown_fields_walks_lists() -> None:
    entry = {**RED_NOTICE, "person": {**RED_NOTICE["person"]}}
    entry["person"]["names"] = [*RED_NOTICE["person"]["names"], {"surname": "X", "alias": "Y"}]
    assert find_unknown_fields(entry, WatchlistEntry) == ["person.names[2].alias"]


def test_bad_json_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as caught:
        decode_event(b"{not json")
    assert describe_errors(caught.value)[0]["rule"] == "json_invalid"
    with pytest.raises(ValidationError):
        decode_event_strict(b"{not json")


def test_summary_for_dlq_header() -> None:
    bad = {**EVENT, "country": "XYZ", "traveller": {**EVENT["traveller"], "surname": 5}}
    with pytest.raises(ValidationError) as caught:
        decode_event(orjson.dumps(bad))
    assert summarise_errors(caught.value) == "country: country_code; traveller.surname: string_type"


def test_schema_header() -> None:
    assert schema_header(Event) == ("relay-schema", b"event/1")
    check_schema_header([("relay-schema", b"event/1")], Event)
    check_schema_header({"relay-schema": b"event/1.3"}, Event)  # a minor, additive revision
    check_schema_header(None, Event)  # older producers sent none
    check_schema_header([("other", b"x")], Event)
    with pytest.raises(SchemaVersionError, match="event/2"):
        check_schema_header([("relay-schema", b"event/2")], Event)
    with pytest.raises(SchemaVersionError):
        check_schema_header([("relay-schema", b"alert/1")], Event)


def test_alert_id_is_deterministic() -> None:
    first = alert_id_for(EVENT["event_id"], "RED-2025-004711")
    assert first == alert_id_for(EVENT["event_id"], "RED-2025-004711")
    assert first != alert_id_for(EVENT["event_id"], "RED-2025-004712")
    assert first.startswith("a-")
    assert len(first) == 34
    Alert.model_validate({**design_alert(), "alert_id": first})


def test_alert_id_never_changes() -> None:
    # Ids already stored on topics: a release that changed them would re-alert every event.
    event_id = "aabc05b4-7cd3-4e82-a23e-1a67581bcbe7"
    assert alert_id_for(event_id, "RED-2025-004711") == "a-097e4a99e17f5007a5efbbdfb5c82cea"


@given(st.text(max_size=60), st.text(max_size=60))
def test_alert_id_is_the_uuid5_of_the_pair(event_id: str, entry_id: str) -> None:
    name = f"{event_id}\x1f{entry_id}"
    namespace = uuid.UUID("5b7e6a53-9a55-4c1e-8f43-6f0f2b0a7c11")
    assert alert_id_for(event_id, entry_id) == "a-" + uuid.uuid5(namespace, name).hex


def test_notification_id_never_changes() -> None:
    # The job ids of notifications.deliveries: a release that changed them would page again.
    alert_id = "a-097e4a99e17f5007a5efbbdfb5c82cea"
    namespace = uuid.UUID("0e4f3c1d-7f0a-4b7e-9d51-2c8e6a1b9f30")
    name = f"{alert_id}\x1fKAZ-NCB\x1fwebhook"
    found = notification_id_for(alert_id, "KAZ-NCB", "webhook")
    assert found == "n-" + uuid.uuid5(namespace, name).hex == "n-14521a93ccf0553f82f5a0f98e19dee8"


def test_notification_id_is_deterministic() -> None:
    alert_id = alert_id_for(EVENT["event_id"], "RED-2025-004711")
    one = notification_id_for(alert_id, "KAZ-NCB", "webhook")
    assert one == notification_id_for(alert_id, "KAZ-NCB", "webhook")
    assert one != notification_id_for(alert_id, "KAZ-NCB", "email")
    assert one.startswith("n-")


def test_document_check_needs_no_direction() -> None:
    check = {k: v for k, v in EVENT.items() if k != "direction"} | {"type": "document_check"}
    assert decode_event(orjson.dumps(check)).direction is None


def test_the_labelled_screening_set_is_valid_contract(shared_data: Path) -> None:
    """10,000 events and 25,231 entries written to DESIGN.md all decode."""
    folder = shared_data / "screening-dev"
    events = (folder / "events.jsonl").read_bytes().splitlines()
    entries = (folder / "watchlist.jsonl").read_bytes().splitlines()
    assert len([decode_event(line) for line in events if line]) == 10_000
    assert len([decode_entry(line) for line in entries if line]) == 25_231
