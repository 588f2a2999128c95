"""Each format parses its fixture into the expected entries; bad records name line and field."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from schemas.watchlist import Action, EntryStatus, ListKind
from services.watchlist.load import Format, as_cancelled, parse, plan
from services.watchlist.parsed import LoadOptions, ParsedRecord

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "watchlist"


def records(fmt: Format, name: str, options: LoadOptions | None = None) -> list[ParsedRecord]:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return list(parse(fmt, text, options or LoadOptions()))


def by_line(recs: list[ParsedRecord]) -> dict[int, ParsedRecord]:
    return {r.line: r for r in recs}


def fields(record: ParsedRecord) -> list[str]:
    return [e["field"] for e in record.errors]


# --- our JSONL --------------------------------------------------------------------------------


def test_jsonl_fixture_parses_every_entry_and_skips_blank_lines() -> None:
    recs = records(Format.JSONL, "entries.jsonl")
    assert [r.line for r in recs] == [1, 3, 4]
    assert all(r.ok for r in recs)
    red, doc, yellow = (r.entry for r in recs)
    assert red is not None
    assert red.person is not None
    assert red.entry_id == "RED-2025-000101"
    assert red.person.names[1].surname == "Фиктивов"
    assert red.person.documents[0].number == "FA0000101"
    assert doc is not None
    assert doc.document is not None
    assert doc.document.status.value == "stolen"
    assert yellow is not None
    assert yellow.dissemination is not None
    assert yellow.dissemination.restricted_to == ["KAZ", "KGZ"]


def test_jsonl_bad_records_are_reported_by_line_with_the_field() -> None:
    recs = by_line(records(Format.JSONL, "entries_bad.jsonl"))
    assert fields(recs[1]) == ["person.date_of_birth"]
    assert recs[1].errors[0]["rule"] == "impossible_date"
    assert fields(recs[2]) == ["document.issuing_state"]
    assert recs[3].ok
    assert fields(recs[4]) == ["person"]


def test_jsonl_invalid_json_is_a_bad_record() -> None:
    recs = list(parse(Format.JSONL, '{"entry_id": \n', LoadOptions()))
    assert len(recs) == 1
    assert recs[0].line == 1
    assert recs[0].errors[0]["rule"] == "json_invalid"


def test_jsonl_does_not_split_at_unicode_line_separators() -> None:
    line = (FIXTURES / "entries.jsonl").read_text().split("\n")[0]
    line = line.replace('"ILKHOMOVICH"', '"ILKHOMOVICH\u2028"')
    recs = list(parse(Format.JSONL, line, LoadOptions()))
    assert len(recs) == 1
    entry = recs[0].entry
    assert entry is not None
    assert entry.person is not None
    assert entry.person.names[0].patronymic == "ILKHOMOVICH\u2028"


# --- INTERPOL ---------------------------------------------------------------------------------


def test_interpol_reference_bundle_maps_red_and_yellow_and_prefers_details(
    shared_data: Path,
) -> None:
    text = (shared_data / "reference" / "interpol_notices_synthetic.json").read_text()
    result = plan(parse(Format.INTERPOL, text, LoadOptions()))
    assert not result.bad
    ids = [e.entry_id for e in result.entries]
    assert ids == [
        "RED-2021-90001",
        "RED-2019-90002",
        "RED-2024-90003",
        "YELLOW-2025-90101",
        "YELLOW-2026-90102",
    ]
    entries = {e.entry_id: e for e in result.entries}
    red = entries["RED-2021-90001"]
    assert (red.list, red.action, red.issuer, red.status) == (
        ListKind.RED_NOTICE,
        Action.ARREST,
        "UZB",
        EntryStatus.ACTIVE,
    )
    assert red.person is not None
    assert red.person.names[0].surname == "TESTOV-ORIPOV"
    assert red.person.names[0].given_names == "BAKHODIR"
    assert red.person.date_of_birth == "1984-03-02"
    assert red.person.sex == "M"
    assert red.person.nationalities == ["UZB"]
    assert entries["RED-2019-90002"].issuer == "KAZ"  # the first of two warrants
    assert entries["RED-2019-90002"].person.nationalities == ["KAZ", "RUS"]  # type: ignore[union-attr]
    assert entries["RED-2024-90003"].person.date_of_birth == "1990-11"  # type: ignore[union-attr]
    yellow = entries["YELLOW-2026-90102"]
    assert (yellow.list, yellow.action, yellow.issuer) == (
        ListKind.YELLOW_NOTICE,
        Action.PROTECT,
        "UZB",
    )
    assert yellow.person is not None
    assert yellow.person.sex is None
    assert len(result.ignored) == 3  # the list page's summaries of the same three red notices
    assert all("superseded" in (r.ignored or "") for r in result.ignored)
    assert result.warnings["arrest warrants from several countries; the issuer is the first's"]


def test_interpol_list_page_uses_the_page_link_and_falls_back_to_interpol_as_issuer() -> None:
    recs = records(Format.INTERPOL, "interpol_red_page.json")
    first, second = recs
    assert first.entry is not None
    assert first.entry.entry_id == "RED-2023-95001"
    assert first.entry.issuer == "XPO"
    assert first.entry.person is not None
    assert first.entry.person.date_of_birth == "1988-01-09"
    assert first.where == "_embedded.notices[0]"
    assert fields(second) == ["person.nationalities[1]"]  # "QQ" is no country
    assert second.errors[0]["rule"] == "country_code"


def test_interpol_issuer_option_fills_a_summary_without_warrant() -> None:
    recs = records(Format.INTERPOL, "interpol_red_page.json", LoadOptions(issuer="TKM"))
    assert recs[0].entry is not None
    assert recs[0].entry.issuer == "TKM"
    assert not recs[0].warnings


def test_interpol_json_lines_tell_kinds_by_fields_and_report_by_line() -> None:
    recs = by_line(records(Format.INTERPOL, "interpol_mixed.jsonl"))
    yellow = recs[1].entry
    assert yellow is not None
    assert yellow.entry_id == "YELLOW-2024-96001"
    assert (yellow.issuer, yellow.action) == ("KAZ", Action.PROTECT)
    assert fields(recs[2]) == ["person.date_of_birth"]
    assert recs[2].where == "line 2"
    assert fields(recs[3]) == ["_links.self"]  # neither link nor warrant: red or yellow?
    fallback = by_line(
        records(Format.INTERPOL, "interpol_mixed.jsonl", LoadOptions(list_kind="red_notice"))
    )
    entry = fallback[3].entry
    assert entry is not None
    assert entry.entry_id == "RED-2024-96003"
    assert entry.person is not None
    assert entry.person.nationalities == []


def test_interpol_broken_json_is_one_file_error() -> None:
    recs = list(parse(Format.INTERPOL, '{\n "entity_id": "2020/1",\n', LoadOptions()))
    assert len(recs) == 1
    assert recs[0].errors[0]["field"] == "(file)"


# --- FollowTheMoney ---------------------------------------------------------------------------


def test_ftm_persons_become_entries_with_issuer_list_and_documents() -> None:
    recs = by_line(records(Format.FTM, "ftm_persons.jsonl", LoadOptions(issuer="BEL")))
    first = recs[1].entry
    assert first is not None
    assert first.person is not None
    assert (first.entry_id, first.list, first.issuer, first.action) == (
        "os-test-0001",
        ListKind.DIFFUSION,
        "BEL",
        Action.LOCATE,
    )
    names = [(n.surname, n.given_names, n.patronymic) for n in first.person.names]
    assert names == [("Namunaev", "Timur", "Rashidovich"), ("Namunayev", "Temur", None)]
    assert (first.person.date_of_birth, first.person.sex) == ("1986-04-21", "M")
    assert first.person.nationalities == ["UZB"]
    docs = [(d.number, d.issuing_state, d.type) for d in first.person.documents]
    assert docs == [("FB0000501", "UZB", "P"), ("30000000000501", "UZB", None)]
    assert recs[2].ignored == "schema Company is not a Person"
    third = recs[3].entry
    assert third is not None
    assert third.person is not None
    assert third.person.nationalities == ["TJK"]  # "suhh" (USSR) has no alpha-3: dropped
    assert third.person.date_of_birth == "1991"
    assert any("suhh" in w for w in recs[3].warnings)
    fourth = recs[4]
    assert fourth.entry is not None
    assert fourth.entry.person is not None
    assert fourth.entry.person.documents == []  # no state known for the passport
    assert "birthDate: 1 value(s) not readable, ignored" in fourth.warnings
    assert fields(recs[5]) == ["entry_id"]
    assert fields(recs[6]) == ["name"]


def test_ftm_list_and_action_options() -> None:
    options = LoadOptions(issuer="KAZ", list_kind="red_notice")
    entry = records(Format.FTM, "ftm_persons.jsonl", options)[0].entry
    assert entry is not None
    assert (entry.list, entry.action, entry.issuer) == (ListKind.RED_NOTICE, Action.ARREST, "KAZ")


def test_ftm_without_issuer_is_bad_on_issuer() -> None:
    recs = records(Format.FTM, "ftm_persons.jsonl")
    assert fields(recs[0]) == ["issuer"]


def test_ftm_unknown_schema_is_a_bad_record() -> None:
    line = '{"id": "x1", "schema": "NoSuchThing", "properties": {}}'
    recs = list(parse(Format.FTM, line, LoadOptions(issuer="BEL")))
    assert recs[0].errors[0]["rule"] == "ftm_invalid"


# --- SLTD CSV ---------------------------------------------------------------------------------


def test_sltd_csv_derives_ids_and_maps_states() -> None:
    recs = records(Format.SLTD_CSV, "sltd.csv")
    assert [r.line for r in recs] == [2, 3, 4]
    got = [
        (e.entry_id, e.issuer, e.document.issuing_state, e.document.type, e.document.status.value)
        for e in (r.entry for r in recs)
        if e is not None and e.document is not None
    ]
    assert got == [
        ("DOC-UZB-FA0000601", "UZB", "UZB", "P", "stolen"),
        ("SLTD-CUSTOM-602", "KAZ", "KAZ", "ID", "lost"),
        ("DOC-KGZ-AB0000603", "XPO", "KGZ", None, "stolen_blank"),
    ]
    assert all(r.entry is not None and r.entry.list is ListKind.SLTD for r in recs)


def test_sltd_csv_bad_rows_named_by_line_and_field() -> None:
    recs = by_line(records(Format.SLTD_CSV, "sltd_bad.csv"))
    assert recs[2].ok  # header names are trimmed and case-insensitive
    assert fields(recs[3]) == ["document.status"]
    assert "document.issuing_state" in fields(recs[4])
    assert fields(recs[5]) == ["(row)"]


def test_sltd_csv_without_required_header_is_rejected_at_line_1() -> None:
    recs = list(parse(Format.SLTD_CSV, "FA0000801,UZB,P,stolen\n", LoadOptions()))
    assert len(recs) == 1
    assert recs[0].line == 1
    assert recs[0].errors[0]["rule"] == "missing_column"


# --- plan -------------------------------------------------------------------------------------


def test_plan_sorts_records_and_counts_repeated_ids() -> None:
    text = (FIXTURES / "entries.jsonl").read_text()
    result = plan(parse(Format.JSONL, text + text, LoadOptions()))
    assert (len(result.entries), len(result.bad), result.duplicate_ids) == (6, 0, 3)


@pytest.mark.parametrize("fmt", list(Format))
def test_empty_input_yields_nothing_or_one_file_error(fmt: Format) -> None:
    recs = list(parse(fmt, "", LoadOptions(issuer="BEL")))
    assert len(recs) <= 1
    assert all(not r.ok for r in recs)


def test_as_cancelled_keeps_everything_but_status() -> None:
    entries = [r.entry for r in records(Format.JSONL, "entries.jsonl") if r.entry]
    cancelled = as_cancelled(entries)
    assert all(e.status is EntryStatus.CANCELLED for e in cancelled)
    assert [e.model_copy(update={"status": EntryStatus.ACTIVE}) for e in cancelled] == entries


@pytest.mark.parametrize("forename", [None, "-", " - ", "", "--"])
def test_interpol_placeholder_forenames_are_absent(forename: str | None) -> None:
    notice = {
        "entity_id": "2026/10847", "name": "KARIMOV", "forename": forename,
        "date_of_birth": "1979/03/14", "nationalities": ["UZ"], "sex_id": "M",
        "_links": {"self": {"href": "https://ws-public.interpol.int/notices/v1/red/2026-10847"}},
    }  # fmt: skip
    [record] = list(
        parse(Format.INTERPOL, orjson.dumps(notice).decode(), LoadOptions(issuer="UZB"))
    )
    assert record.entry is not None, record.errors
    [name] = record.entry.person.names  # type: ignore[union-attr]
    assert name.surname == "KARIMOV"
    assert name.given_names is None


def test_ftm_an_unreadable_or_tax_number_drops_that_value_not_the_person() -> None:
    # Shaped like a real OpenSanctions person: a tax number among the ids.
    entity = {
        "id": "NK-3bCkDzW6gH6rx8ZvD8vdmi", "schema": "Person",
        "properties": {
            "name": ["Rustam Saidov"], "birthDate": ["1975-06-02"], "nationality": ["uz"],
            "idNumber": ["TIN: 183111242572", "Taxpayer No. 7707083893", "AB 12-34/56", "№ ?!"],
            "passportNumber": ["FA1234567"],
        },
    }  # fmt: skip
    [record] = list(parse(Format.FTM, orjson.dumps(entity).decode(), LoadOptions(issuer="UZB")))
    assert record.entry is not None, record.errors
    assert record.entry.person is not None
    numbers = [(d.number, d.type) for d in record.entry.person.documents]
    assert numbers == [("FA1234567", "P"), ("AB 12-34/56", None)]
    assert sum("not a travel document" in w for w in record.warnings) == 2
    assert any("idNumber: a value that is not a document number" in w for w in record.warnings)


def test_ftm_passport_and_identification_entities_join_their_holder() -> None:
    person = {
        "id": "os-test-0900", "schema": "Person",
        "properties": {"name": ["Dilnoza Yusupova"], "previousName": ["Dilnoza Karimova"],
                       "nationality": ["uz"]},
    }  # fmt: skip
    passport = {
        "id": "os-test-0901", "schema": "Passport",
        "properties": {"holder": ["os-test-0900"], "number": ["HJSJHAS"], "country": ["kz"]},
    }  # fmt: skip
    card = {
        "id": "os-test-0902", "schema": "Identification",
        "properties": {"holder": ["os-test-0900"], "number": ["AB7654321", "TIN: 1"]},
    }  # fmt: skip
    # The documents may come before or after their holder in an export.
    text = "\n".join(orjson.dumps(e).decode() for e in (passport, person, card))
    recs = list(parse(Format.FTM, text, LoadOptions(issuer="UZB")))
    [entry] = [r.entry for r in recs if r.entry is not None]
    assert entry.person is not None
    docs = [(d.number, d.issuing_state, d.type) for d in entry.person.documents]
    assert docs == [("HJSJHAS", "KAZ", "P"), ("AB7654321", "UZB", None)]
    surnames = {n.surname for n in entry.person.names}
    assert surnames == {"Yusupova", "Karimova"}
