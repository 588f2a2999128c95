"""The MRZ reader against every vector of reference/mrz_test_vectors.jsonl, via `relay mrz`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from schemas.mrz import MrzFormat, check_digit, read_mrz
from services.cli.main import app

VECTORS_PATH = (
    Path(__file__).resolve().parents[4] / "shared" / "data" / "reference" / "mrz_test_vectors.jsonl"
)
VECTORS: list[dict[str, Any]] = [
    json.loads(line) for line in VECTORS_PATH.read_text(encoding="utf-8").splitlines() if line
]
MRZ_VECTORS = [v for v in VECTORS if v["kind"] == "mrz"]
CHECK_VECTORS = [v for v in VECTORS if v["kind"] == "check_digit"]

# the vectors' wording -> the field our reader names
ERROR_FIELDS = {
    "Document Number check digit mismatch": "document_number",
    "Date of Birth check digit mismatch": "date_of_birth",
    "Date of Expiry check digit mismatch": "expiry_date",
    "Optional data check digit mismatch": "optional_data",
    "Composite check digit mismatch": "composite",
}
CHECK_NAMES = {
    "birth_date": "date_of_birth",
    "expiry_date": "expiry_date",
    "personal_number": "optional_data",
    "composite": "composite",
}
runner = CliRunner()


def test_the_vector_file_is_whole() -> None:
    assert len(VECTORS) == 82
    assert len(MRZ_VECTORS) == 71
    assert len(CHECK_VECTORS) == 11


@pytest.mark.parametrize("vector", CHECK_VECTORS, ids=lambda v: v["input"])
def test_check_digit(vector: dict[str, Any]) -> None:
    assert check_digit(vector["input"]) == vector["expected"]


def relay_mrz(lines: list[str]) -> tuple[int, dict[str, Any]]:
    outcome = runner.invoke(app, ["mrz", *lines])
    return outcome.exit_code, json.loads(outcome.stdout)


def recomputed(vector: dict[str, Any]) -> dict[str, bool]:
    """The vector's own per-check-digit verdicts, under our check names."""
    checks: dict[str, bool] = {}
    for name, value in vector["recomputed_check_digits"].items():
        if name == "document_number":
            checks[name] = bool(value["ok"] or value.get("ok_variant_with_filler"))
        else:
            checks[CHECK_NAMES[name]] = bool(value)
    return checks


@pytest.mark.parametrize("vector", MRZ_VECTORS, ids=lambda v: "|".join(v["lines"]))
def test_vector_through_relay_mrz(vector: dict[str, Any]) -> None:
    code, out = relay_mrz(vector["lines"])
    assert code == (0 if out["valid"] else 1)
    error_fields = {e["field"] for e in out["errors"]}
    expected_valid = vector["expected_valid"]
    if "non-ICAO" in vector["format"] and not vector["format"].startswith("FRA-ID"):
        # driving licences: not ICAO 9303, out of this reader's scope; it must say so
        assert not out["valid"]
        assert error_fields == {"format"}
        return
    if vector["format"].startswith("FRA-ID"):
        assert out["format"] == MrzFormat.FRA_ID
    else:
        assert out["format"] == vector["format"]
    if vector["expected_error"]:
        assert not out["valid"]
        assert ERROR_FIELDS[vector["expected_error"]] in error_fields
    if vector["recomputed_check_digits"]:
        assert out["checks"] == recomputed(vector)
        doc = vector["recomputed_check_digits"]["document_number"]["value"]
        assert out["document_number"] == doc.strip("<")
    if expected_valid is True:
        assert out["valid"], out["errors"]
    elif expected_valid is False and not vector["expected_error"]:
        # the source also judged unreal state codes (UTO, the ICAO specimen state) invalid;
        # we verify check digits and layout, and report an unknown state as a warning
        warned = {w["field"] for w in out["warnings"]}
        assert not out["valid"] or "issuing_state" in warned
    elif expected_valid is None:
        assert out["valid"] == all(out["checks"].values())


def test_valid_vectors_parse_their_fields() -> None:
    result = read_mrz(
        [
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
            "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
        ],
        today=dt.date(2026, 1, 1),
    )
    assert result.valid
    assert (result.surname, result.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert (result.document_code, result.issuing_state, result.nationality) == ("P", "UTO", "UTO")
    assert (result.document_number, result.sex) == ("L898902C3", "F")
    assert (result.date_of_birth, result.date_of_birth_raw) == ("1974-08-12", "740812")
    assert (result.expiry_date, result.optional_data) == ("2012-04-15", "ZE184226B")


def test_td1_long_document_number_continues_into_optional_data() -> None:
    result = read_mrz(
        ["I<UTOD23145890<7349<<<<<<<<<<<", "3407127M9507122UTO<<<<<<<<<<<2",
         "STEVENSON<<PETER<JOHN<<<<<<<<<"],
        today=dt.date(2026, 1, 1),
    )  # fmt: skip
    assert result.valid
    assert result.document_number == "D23145890734"
    assert result.date_of_birth == "1934-07-12"  # '34' cannot be 2034 for a birth date
    assert result.expiry_date == "1995-07-12"
    assert result.optional_data is None


def test_td1_german_state_and_belgian_filler_variant() -> None:
    belgian = read_mrz(
        ["IDBEL000590240<6013<<<<<<<<<<<", "8512017F1311048BEL851201002007",
         "REINARTZ<<ULRIKE<KATIA<E<<<<<<"]
    )  # fmt: skip
    assert belgian.valid
    assert belgian.document_number == "000590240601"
    assert [w.field for w in belgian.warnings] == ["document_number"]
    german = read_mrz(
        [
            "P<D<<MUSTERMANN<<ERIKA<<<<<<<<<<<<<<<<<<<<<<",
            "C01X0006H1D<<6408125F1710319<<<<<<<<<<<<<<<0",
        ]
    )
    assert german.valid
    assert (german.issuing_state, german.nationality) == ("D", "D")
    assert german.warnings == []


@pytest.mark.parametrize(
    "lines",
    [[], [""], ["P<"], ["x" * 44, "y" * 44], ["é" * 30] * 3, ["<" * 44, "<" * 44], ["1" * 36] * 2],
)
def test_garbage_is_reported_not_raised(lines: list[str]) -> None:
    result = read_mrz(lines)
    assert not result.valid
    assert result.errors


@given(st.lists(st.text(alphabet="ABCXYZ0123456789<?é ", max_size=50), max_size=4))
def test_never_raises(lines: list[str]) -> None:
    result = read_mrz(lines)
    assert result.valid == (not result.errors)


def with_digit(data: str) -> str:
    digit = check_digit(data)
    assert digit is not None
    return data + digit


def td3_line2(number: str, dob: str, expiry: str, personal: str) -> str:
    number, personal = number.ljust(9, "<"), personal.ljust(14, "<")
    body = "".join(
        [with_digit(number), "UZB", with_digit(dob), "M", with_digit(expiry), with_digit(personal)]
    )
    return body + with_digit(body[0:10] + body[13:20] + body[21:43])[-1]


@given(
    number=st.text(alphabet="ABCDEFGHJKLMNPRSTUVWXYZ0123456789", min_size=1, max_size=9),
    dob=st.dates(dt.date(1930, 1, 1), dt.date(2025, 12, 31)),
    expiry=st.dates(dt.date(2000, 1, 1), dt.date(2060, 12, 31)),
    personal=st.text(alphabet="0123456789", max_size=14),
)
def test_any_well_formed_td3_reads_back(
    number: str, dob: dt.date, expiry: dt.date, personal: str
) -> None:
    line2 = td3_line2(number, dob.strftime("%y%m%d"), expiry.strftime("%y%m%d"), personal)
    result = read_mrz(["P<UZBKHOLMATOV<<ALISHER".ljust(44, "<"), line2], today=dt.date(2026, 1, 1))
    assert result.valid, result.errors
    assert result.document_number == number
    assert result.date_of_birth == dob.isoformat()
    assert result.expiry_date == expiry.isoformat()
    assert result.optional_data == (personal or None)


@given(st.lists(st.text(max_size=50), max_size=4), st.dates())
def test_read_mrz_never_raises(lines: list[str], today: dt.date) -> None:
    """Whatever the lines hold (ingest reads what agencies send), a result, never an exception."""
    result = read_mrz(lines, today=today)
    assert result.valid == (not result.errors)


@pytest.mark.parametrize(
    "bad",
    ["²", "+", " ", "\n", "١"],
    ids=["superscript", "plus", "space", "line-break", "arabic-indic"],
)
def test_odd_characters_in_dates_and_digits_are_errors(bad: str) -> None:
    """Characters that int() half-accepts, in a birth date and a check digit: errors, no raise."""
    line1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
    line2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
    for at in (15, 16, 19, 9):
        result = read_mrz([line1, line2[:at] + bad + line2[at + 1 :]], today=dt.date(2026, 1, 1))
        assert not result.valid
