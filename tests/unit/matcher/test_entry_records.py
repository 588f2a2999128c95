"""A validated SLTD entry takes a hot path to its record (bulk builds of 10^8 documents): the
record is the one the generic path makes of the same entry's JSON."""

from __future__ import annotations

from pathlib import Path

import orjson

from schemas.codec import decode_entry
from services.matcher.domain import entry_record
from tests.unit.matcher.helpers import sltd_entry


def test_the_model_path_makes_the_records_the_mapping_path_makes(shared_data: Path) -> None:
    lines = (shared_data / "screening-dev" / "watchlist.jsonl").read_bytes().splitlines()
    extra = [
        sltd_entry("DOC-KAZ-AB1234567", "АВ 123-4567", "KAZ"),
        {**sltd_entry("SLTD-R", "rr0000001", "TJK"), "issuer": "RUS", "action": "locate",
         "dissemination": {"restricted_to": ["KAZ", "UZB"]}},
        {**sltd_entry("SLTD-N", "N0000001", "KGZ"), "document": {
            "number": "N0000001", "issuing_state": "KGZ", "status": "lost"}},
        {**sltd_entry("SLTD-C", "C0000001"), "status": "cancelled"},
    ]  # fmt: skip
    raw = [orjson.loads(line) for line in lines if line.strip()] + extra
    sltd = [r for r in raw if r["list"] == "sltd"]
    assert len(sltd) > 20_000
    for mapping in raw:
        model = decode_entry(orjson.dumps(mapping))
        assert entry_record(model) == entry_record(mapping), mapping["entry_id"]
