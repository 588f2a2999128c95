"""``read_mrz_name`` reads the name as ``read_mrz`` does, for every public vector."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from schemas.mrz import read_mrz, read_mrz_name

VECTORS_PATH = (
    Path(__file__).resolve().parents[4] / "shared" / "data" / "reference" / "mrz_test_vectors.jsonl"
)
LETTERS = re.compile(r"[A-Z ]*")
MRZ_VECTORS: list[dict[str, Any]] = [
    vector
    for vector in map(json.loads, VECTORS_PATH.read_text(encoding="utf-8").splitlines())
    if vector["kind"] == "mrz"
]


@pytest.mark.parametrize("vector", MRZ_VECTORS, ids=lambda v: "|".join(v["lines"]))
def test_the_name_is_the_one_the_full_reader_reads(vector: dict[str, Any]) -> None:
    lines = vector["lines"]
    full = read_mrz(lines)
    read = (full.surname, full.given_names)
    letters = all(part is None or LETTERS.fullmatch(part) for part in read)
    # no layout, or anything but letters in the name (SPECIMEN1): no name to screen
    assert read_mrz_name(lines) == (read if full.format is not None and letters else None)


def test_an_ocr_slip_in_the_name_zone_is_no_name() -> None:
    # cheminfo/mrz's negative vector: digits read into the name
    lines = ["AAA001D<<", "FACHE305142128?97<<800126<<<<<", "M4RCHAND<<FABI3NNE<<<<<<<<<<<<"]
    assert read_mrz_name(lines) is None
    td1 = ["I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6",
           "ERIKSS0N<<ANNA<MARIA<<<<<<<<<<"]  # fmt: skip
    assert read_mrz_name(td1) is None


def test_a_truncated_name_is_read_as_printed() -> None:
    # Portuguese specimen (TD1): the given names are cut at the end of the zone
    lines = ["I<PRT007777779<ZZ92<<<<<<<<<<<", "8303143M3405282PRT<<<<<<<<<<<2",
             "CACADOR<DE<ARAUJO<<ANDRE<ESTEV"]  # fmt: skip
    assert read_mrz_name(lines) == ("CACADOR DE ARAUJO", "ANDRE ESTEV")
