"""The streaming matcher's alert bytes (engine JSON + spliced event context) are the same
Alert the model path builds, and validate as ``schemas.alert.Alert``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from schemas.alert import Alert, alert_id_for
from schemas.codec import decode_alert, decode_event, encode
from services.matcher.domain import WatchlistIndex, entry_record
from services.matcher.handlers import EncodedAlert, screen_encoded, screen_event
from tests.unit.matcher.helpers import event, person_entry, sltd_entry

CREATED = datetime(2026, 11, 22, 8, 15, 31, 123456, tzinfo=UTC)


def _index() -> WatchlistIndex:
    index = WatchlistIndex()
    entries = [
        person_entry(
            "RED-S-1",
            [{"surname": "KHOLMATOV", "given_names": "ALISHER"}],
            date_of_birth="1985-03-02", sex="M", nationalities=["UZB"],
        ),
        {
            **person_entry(
                "DIF-S-2",
                [{"surname": "Ёкубов", "given_names": "Жасур"}],
                list="diffusion", date_of_birth="1990-07-14", sex="M",
            ),
            "dissemination": {"restricted_to": ["KAZ", "KGZ"]},
        },
        sltd_entry("DOC-S-1", "FA7654321"),
    ]  # fmt: skip
    for entry in entries:
        index.upsert(entry_record(entry))
    return index


def _events() -> list[dict[str, Any]]:
    with_all = event("XOLMATOV", "ALISHER", date_of_birth="1985-03-02", sex="M",
                     nationality="UZB", document={"number": "fa-765 4321",
                                                  "issuing_state": "UZB", "type": "P"})  # fmt: skip
    with_all["location"] = {"code": "KZ-ALA-AIR", "name": 'Алматы "Intl"', "kind": "air"}
    bare = event("YOQUBOV", "JASUR", date_of_birth="1990-07-14")
    del bare["document"]
    bare["type"] = "document_check"
    bare["event_id"] = "1c9f2a4e-0000-4c55-9a43-5d8f1c8f7a11"
    return [with_all, bare]


@pytest.mark.parametrize("raw", _events(), ids=["all_fields", "no_location_no_document"])
def test_encoded_alerts_are_the_model_path_alerts(raw: dict[str, Any]) -> None:
    index = _index()
    one = decode_event(encode_raw(raw))
    encoded = screen_encoded(index, one, CREATED)
    assert encoded, "the event must alert, or the test shows nothing"
    models = _model_path(index, one)
    # keyed by entry: one entry's alerts share a partition (schemas.alert.alert_key)
    assert [a.key for a in encoded] == [m.entry_id.encode() for m in models]
    for wire, model in zip(encoded, models, strict=True):
        alert = decode_alert(wire.value)  # validates as schemas.alert.Alert
        assert alert == model
        assert encode(alert) == encode(model)
        assert alert.alert_id == alert_id_for(alert.event_id, alert.entry_id)
        assert (wire.list, wire.band) == (alert.list.value, alert.band.value)
        assert alert.retro is False
        assert alert.traveller == one.traveller
        assert alert.event_document == one.document
        assert alert.location == one.location


def test_restricted_entry_keeps_its_dissemination() -> None:
    index = _index()
    bare = decode_event(encode_raw(_events()[1]))
    [wire] = [a for a in screen_encoded(index, bare, CREATED) if b"DIF-S-2" in a.value]
    assert decode_alert(wire.value).dissemination is not None


def test_publish_encoding_of_a_model_alert() -> None:
    model = _model_path(_index(), decode_event(encode_raw(_events()[0])))[0]
    wire = EncodedAlert.of(model)
    assert wire.key == model.entry_id.encode()
    assert decode_alert(wire.value) == model


def _model_path(index: WatchlistIndex, one: Any) -> list[Alert]:
    # screen_event stamps its own created_at; align it to compare everything else.
    return [a.model_copy(update={"created_at": CREATED}) for a in screen_event(index, one)]


def encode_raw(raw: dict[str, Any]) -> bytes:
    return orjson.dumps({k: v for k, v in raw.items() if v is not None})
