"""The name in an event's MRZ is screened too, and a failed MRZ check digit is explained.

The MRZ lines are public ICAO 9303 test vectors (as in ZeroPass/dmrtd's test suite, see
``shared/data/reference/mrz_test_vectors.jsonl``): the Part 4 specimen passport of Anna Maria
Eriksson, and the same zone with its document-number check digit changed. The travellers are
synthetic: a desk that typed another name than the document prints.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from schemas.alert import MRZ_FIELD, How, alert_id_for
from schemas.codec import decode_alert, decode_event
from schemas.mrz import read_mrz
from schemas.notification import Channel, Notification, NotificationState, notification_id_for
from services.cli.screen_cmd import screen_files
from services.matcher.domain import Match, WatchlistIndex, entry_record, to_alert
from services.matcher.handlers import screen_encoded, screen_event
from services.notifier.domain.render import email
from services.notifier.domain.words import FIELDS, HOW, field_text, how_text
from tests.unit.matcher.helpers import event, person_entry, screen, sltd_entry

# ICAO 9303 Part 4 specimen (TD3): ERIKSSON, ANNA MARIA, born 1974-08-12, F, No. L898902C3.
SPECIMEN = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]
# The same zone with the document number's check digit 6 printed as 5 (dmrtd's negative
# vector "Document Number check digit mismatch"); the composite digit fails with it.
BAD_DIGIT = [SPECIMEN[0], "L898902C35UTO7408122F1204159ZE184226B<<<<<10"]
BORN = "1974-08-12"
CREATED = datetime(2026, 11, 22, 8, 15, 31, tzinfo=UTC)


def eriksson(entry_id: str = "RED-MRZ-1") -> dict[str, Any]:
    names = [{"surname": "ERIKSSON", "given_names": "ANNA MARIA"}]
    return person_entry(entry_id, names, date_of_birth=BORN, sex="F")


def crossing(surname: str, given: str | None, mrz: list[str], **extra: Any) -> dict[str, Any]:
    # The specimen's state UTO is no ISO country: the event's own field says SWE.
    document = {"number": "L898902C3", "issuing_state": "SWE", "type": "P", "mrz": mrz}
    raw = event(surname, given, date_of_birth=BORN, sex="F", document=document)
    raw.update(extra)
    return raw


def hows(match: Match) -> list[tuple[str, str | None, str]]:
    return [(item.field, item.event, item.how) for item in match.evidence]


def test_the_vectors_are_what_the_tests_say() -> None:
    good, bad = read_mrz(SPECIMEN), read_mrz(BAD_DIGIT)
    assert good.valid
    assert (good.surname, good.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert not bad.valid
    assert {name for name, ok in bad.checks.items() if not ok} == {"document_number", "composite"}


def test_a_traveller_typed_under_another_name_alerts_on_the_name_in_the_mrz() -> None:
    # A married name typed at the desk; the passport (and the notice) say ERIKSSON.
    [match] = screen([eriksson()], crossing("LINDQVIST", "ANNA", SPECIMEN))
    assert (match.entry_id, match.band) == ("RED-MRZ-1", "strong")
    lines = hows(match)
    assert lines[0] == (MRZ_FIELD, "ERIKSSON ANNA MARIA", How.NAME_FROM_MRZ)
    assert ("surname", "ERIKSSON", "exact") in lines
    assert not any(event_value == "LINDQVIST" for _, event_value, _ in lines)


def test_the_typed_name_alone_does_not_alert() -> None:
    # The control: without the MRZ the same traveller raises nothing.
    raw = crossing("LINDQVIST", "ANNA", SPECIMEN)
    del raw["document"]["mrz"]
    assert screen([eriksson()], raw) == []


def test_each_entry_keeps_the_better_of_the_two_names_once() -> None:
    # Typed ERIKSSON ANNA (a given name short) and the MRZ's full name both reach the entry:
    # one match, the MRZ's (it is the better one), under the (event, entry) alert id.
    matches = screen([eriksson()], crossing("ERIKSSON", "ANNA", SPECIMEN))
    [match] = matches
    assert hows(match)[0][2] == How.NAME_FROM_MRZ
    typed_only = crossing("ERIKSSON", "ANNA", SPECIMEN)
    del typed_only["document"]["mrz"]
    [typed] = screen([eriksson()], typed_only)
    assert match.score > typed.score
    alert = to_alert(match, CREATED)
    assert alert.alert_id == alert_id_for(match.event_id, "RED-MRZ-1")


def test_the_typed_and_the_mrz_name_each_alert_on_their_own_entry() -> None:
    typed_entry = person_entry(
        "RED-MRZ-2", [{"surname": "LINDQVIST", "given_names": "ANNA"}], date_of_birth=BORN
    )
    matches = screen([eriksson(), typed_entry], crossing("LINDQVIST", "ANNA", SPECIMEN))
    by_entry = {m.entry_id: m for m in matches}
    assert set(by_entry) == {"RED-MRZ-1", "RED-MRZ-2"}
    assert hows(by_entry["RED-MRZ-1"])[0][2] == How.NAME_FROM_MRZ
    assert all(item.field != MRZ_FIELD for item in by_entry["RED-MRZ-2"].evidence)


def test_a_name_typed_as_the_mrz_prints_it_is_screened_once_and_says_nothing_of_the_mrz() -> None:
    with_mrz = screen([eriksson()], crossing("Eriksson", "Anna Maria", SPECIMEN))
    without = crossing("Eriksson", "Anna Maria", SPECIMEN)
    del without["document"]["mrz"]
    assert with_mrz == screen([eriksson()], without)


def test_a_failed_check_digit_is_in_every_alert_of_the_event() -> None:
    entries = [eriksson(), sltd_entry("DOC-MRZ-1", "L898902C3", state="SWE")]
    raw = crossing("ERIKSSON", "ANNA MARIA", BAD_DIGIT)
    for verdict in (False, None):  # ingest's flag, or an event that never went through ingest
        raw["mrz_valid"] = verdict
        matches = screen(entries, raw)
        assert {m.entry_id for m in matches} == {"RED-MRZ-1", "DOC-MRZ-1"}
        for match in matches:
            assert hows(match)[-1] == (
                MRZ_FIELD,
                "document number, composite",
                How.CHECK_DIGIT_FAILED,
            )
            assert match.evidence[-1].score == 0.0


def test_a_valid_mrz_adds_no_check_digit_line() -> None:
    for verdict in (True, None):
        [match] = screen(
            [eriksson()], crossing("ERIKSSON", "ANNA MARIA", SPECIMEN, mrz_valid=verdict)
        )
        assert all(item.how != How.CHECK_DIGIT_FAILED for item in match.evidence)


def test_a_failed_check_digit_and_the_mrz_name_together() -> None:
    [match] = screen([eriksson()], crossing("LINDQVIST", "ANNA", BAD_DIGIT, mrz_valid=False))
    assert [line[2] for line in hows(match) if line[0] == MRZ_FIELD] == [
        How.NAME_FROM_MRZ,
        How.CHECK_DIGIT_FAILED,
    ]


def test_the_stream_and_the_model_path_write_the_same_mrz_explanation() -> None:
    index = WatchlistIndex()
    index.upsert(entry_record(eriksson()))
    one = decode_event(json.dumps(crossing("LINDQVIST", "ANNA", BAD_DIGIT, mrz_valid=False)))
    [wire] = screen_encoded(index, one, CREATED)
    [model] = screen_event(index, one)
    alert = decode_alert(wire.value)
    assert [(e.field, e.how) for e in alert.explanation] == [
        (e.field, e.how) for e in model.explanation
    ]
    assert {e.how for e in alert.explanation} >= {How.NAME_FROM_MRZ, How.CHECK_DIGIT_FAILED}


def test_relay_screen_shows_the_mrz_name_and_the_failed_check_digit(tmp_path: Path) -> None:
    watchlist, events = tmp_path / "w.jsonl", tmp_path / "e.jsonl"
    watchlist.write_text(json.dumps(eriksson()) + "\n")
    events.write_text(json.dumps(crossing("LINDQVIST", "ANNA", BAD_DIGIT)) + "\n")
    out, err = io.BytesIO(), io.StringIO()
    screen_files(watchlist, events, out, err)
    [alert] = [decode_alert(line) for line in out.getvalue().splitlines()]
    lines = [(e.field, e.event, e.how) for e in alert.explanation]
    assert (MRZ_FIELD, "ERIKSSON ANNA MARIA", How.NAME_FROM_MRZ) in lines
    assert (MRZ_FIELD, "document number, composite", How.CHECK_DIGIT_FAILED) in lines


def test_every_explanation_code_has_words_for_a_duty_officer() -> None:
    assert set(How) <= set(HOW), sorted(set(How) - set(HOW))
    assert MRZ_FIELD in FIELDS
    assert "MRZ" in field_text(MRZ_FIELD)
    assert "check digits" in how_text(How.CHECK_DIGIT_FAILED)
    assert "typed" in how_text(How.NAME_FROM_MRZ)


def test_the_email_says_it_in_words() -> None:
    [match] = screen([eriksson()], crossing("LINDQVIST", "ANNA", BAD_DIGIT, mrz_valid=False))
    alert = to_alert(match, CREATED)
    notification = Notification(
        notification_id=notification_id_for(alert.alert_id, "KAZ-NCB", "email"),
        alert_id=alert.alert_id, recipient="KAZ-NCB", country="KAZ", channel=Channel.EMAIL,
        state=NotificationState.PENDING, created_at=CREATED, updated_at=CREATED,
    )  # fmt: skip
    text = email(notification, alert, None).text
    label = f"Why: {field_text(MRZ_FIELD)}: "
    assert f"{label}{how_text(How.NAME_FROM_MRZ)} (1.00)" in text
    assert f"{label}{how_text(How.CHECK_DIGIT_FAILED)} (0.00)" in text
