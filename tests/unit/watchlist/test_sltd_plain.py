"""The plain-row path of a bulk build reads an SLTD CSV exactly as the full parser does, and a
store built through it holds exactly what a store built from the parsed entries holds."""

from __future__ import annotations

import dataclasses
import marshal
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas.codec import encode
from schemas.watchlist import Action
from services.matcher.docstore import DocStore, build_from_parts, build_store
from services.matcher.docstore.codec import unpack_holders
from services.matcher.domain import entry_record
from services.matcher.domain.records import EntryRecord, SltdRecord
from services.watchlist import chunks
from services.watchlist.formats.sltd_csv import PlainRow, plain_entry, plain_rows
from services.watchlist.load import Format, parse
from services.watchlist.parsed import LoadOptions, ParsedRecord
from tests.unit.matcher.helpers import person_entry, sltd_entry

TOPIC = "t.watchlist.entries"

ROWS = [
    "FA1234567,UZB,P,stolen",  # plain
    "FA1234568,uz,p,Stolen Blank",  # alpha-2 state, lower-case type: plain once read
    "fa1234569,UZB,P,lost",  # lower-case number: parsed alone
    "FA-123 4570,UZB,P,lost",  # a formatted number
    "АВ1234567,KAZ,P,stolen",  # Cyrillic letters: no derived id can hold them
    "FA1234571,Q1Q,P,stolen",  # no such state: an error naming the field
    "FA1234572,UZB,P,misplaced",  # no such status
    "FA1234573,UZB,123,stolen",  # no such type
    ",UZB,P,stolen",  # no number
    "FA1234574,UZB,P",  # a cell short
    ",,,",  # blank
    "",  # blank
    "FA1234575,UZB,,revoked",  # no type
    "FA1234567,UZB,ID,invalidated",  # the first document again: the last version wins
    "N01234567,KGZ,P,stolen",  # also a person's document (below)
    " FA1234576 , UZB , PD , lost ",  # spaces around cells
    "X" * 41 + ",UZB,P,stolen",  # longer than a document number may be
]


def _csv(
    rows: list[str], header: str = "number,issuing_state,type,status", crlf: bool = False
) -> str:
    end = "\r\n" if crlf else "\n"
    return end.join([header, *rows]) + end


def _as_record(row: PlainRow) -> SltdRecord:
    state, _, number = row.key.partition(":")
    return SltdRecord(
        entry_id=f"DOC-{state}-{number}", issuer=state, action="seize_document", key=row.key,
        listed_number=None, issuing_state=state, type=row.type or None, status=row.status,
    )  # fmt: skip


def _same_as_parse(text: str, options: LoadOptions) -> list[PlainRow | ParsedRecord]:
    rows = plain_rows(text, options)
    assert rows is not None
    found, expected = list(rows), list(parse(Format.SLTD_CSV, text, options))
    assert len(found) == len(expected)
    for mine, theirs in zip(found, expected, strict=True):
        if isinstance(mine, PlainRow):
            assert theirs.entry is not None, theirs
            assert _as_record(mine) == entry_record(theirs.entry)
            assert plain_entry(mine) == theirs.entry
            assert encode(plain_entry(mine)) == encode(theirs.entry)  # what a load publishes
        else:
            assert mine == theirs
    return found


@pytest.mark.parametrize("crlf", [False, True])
def test_plain_rows_read_as_the_parser_reads(crlf: bool) -> None:
    found = _same_as_parse(_csv(ROWS, crlf=crlf), LoadOptions())
    plain = [row for row in found if isinstance(row, PlainRow)]
    assert [row.key for row in plain] == [
        "UZB:FA1234567", "UZB:FA1234568", "UZB:FA1234575", "UZB:FA1234567", "KGZ:N01234567",
        "UZB:FA1234576",
    ]  # fmt: skip
    bad = [row for row in found if isinstance(row, ParsedRecord) and not row.ok]
    assert [row.line for row in bad] == [6, 7, 8, 9, 10, 11, 18]


def test_rows_with_ids_or_issuers_of_their_own_are_parsed_alone() -> None:
    header = "entry_id,number,issuing_state,type,status,issuer"
    rows = [",FA1,UZB,P,stolen,", "SLTD-9,FA2,UZB,P,stolen,", ",FA3,UZB,P,stolen,KAZ"]
    found = _same_as_parse(_csv(rows, header), LoadOptions())
    assert [type(row) for row in found] == [PlainRow, ParsedRecord, ParsedRecord]


def test_texts_not_of_the_plain_shape_are_left_to_the_parser() -> None:
    assert plain_rows(_csv(['"FA1",UZB,P,stolen']), LoadOptions()) is None
    assert plain_rows(_csv(ROWS[:2]).replace("\n", "\r"), LoadOptions()) is None
    assert plain_rows(_csv(ROWS[:2], "number,state,status"), LoadOptions()) is None
    assert plain_rows(_csv(ROWS[:2]), LoadOptions(action=Action.LOCATE)) is None


def _contents(path: Path) -> dict[str, Any]:
    store = DocStore.open(path, TOPIC, readonly=True)
    txn = store.env.begin()
    docs = {
        bytes(k).decode(): sorted(map(repr, unpack_holders(bytes(k).decode(), bytes(v))))
        for k, v in txn.cursor(store._docs)
    }
    persons = {bytes(k): marshal.loads(bytes(v))[2] for k, v in txn.cursor(store._persons)}
    ids = {bytes(k): bytes(v) for k, v in txn.cursor(store._ids)}
    found = {"docs": docs, "persons": persons, "ids": ids, "sltd": store.sltd_count()}
    store.close()
    return found


def test_a_build_through_plain_rows_holds_what_the_parsed_entries_make(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 200)  # several chunks, each with the header
    csv = tmp_path / "sltd.csv"
    csv.write_text(_csv(ROWS * 3, crlf=True), encoding="utf-8-sig")
    people = [
        person_entry("RED-1", [{"surname": "KHOLMATOV"}],
                     documents=[{"number": "N0 1234567", "issuing_state": "KGZ"}]),
        person_entry("DOC-UZB-FA1234575", [{"surname": "ODDLY NAMED"}],
                     documents=[{"number": "FA1234567", "issuing_state": "UZB"}]),
        sltd_entry("SLTD-OWN-ID", "FA1234567"),
        sltd_entry("DOC-UZB-FA1234568", "FA1234568", "KAZ"),  # a derived id, another key
        {**sltd_entry("DOC-KGZ-N01234567", "N01234567", "KGZ"), "status": "cancelled"},
    ]  # fmt: skip
    jsonl = tmp_path / "entries.jsonl"
    jsonl.write_bytes(b"\n".join(orjson.dumps(e) for e in people) + b"\n")
    sources = [(Format.SLTD_CSV, csv), (Format.JSONL, jsonl)]
    found = chunks.chunks_of(sources, LoadOptions(), tmp_path, chunks.Sink.STORE)
    assert len(found) > 3
    report = chunks.parse_all(found, lambda _: None)
    build_from_parts(tmp_path / "plain", TOPIC, report.parts, None)

    records: list[EntryRecord] = []
    for fmt, path in sources:
        parsed = parse(fmt, path.read_text(encoding="utf-8-sig"), LoadOptions())
        records += [entry_record(r.entry) for r in parsed if r.entry is not None]
    assert report.valid == len(records)
    assert report.bad_count == 3 * 7
    build_store(tmp_path / "parsed", TOPIC, records, None)
    plain, parsed_store = _contents(tmp_path / "plain"), _contents(tmp_path / "parsed")
    assert plain == parsed_store
    holders = unpack_holders_of(tmp_path / "plain", "UZB:FA1234567")
    assert {h if isinstance(h, str) else h.entry_id for h in holders} == {
        "DOC-UZB-FA1234567", "DOC-UZB-FA1234575", "SLTD-OWN-ID",
    }  # fmt: skip
    assert "KGZ:N01234567" in plain["docs"]  # the person still holds it; the SLTD entry is gone
    assert unpack_holders_of(tmp_path / "plain", "KGZ:N01234567") == ("RED-1",)
    assert "UZB:FA1234568" not in plain["docs"]  # its id now names a KAZ document
    assert plain["ids"] == {
        b"SLTD-OWN-ID": b"UZB:FA1234567",
        b"DOC-UZB-FA1234568": b"KAZ:FA1234568",
    }


def unpack_holders_of(path: Path, key: str) -> tuple[Any, ...]:
    store = DocStore.open(path, TOPIC, readonly=True)
    found = store.holders(key)
    store.close()
    return found


@pytest.mark.parametrize("cancelled", [False, True])
def test_a_load_through_plain_rows_publishes_what_the_parsed_entries_make(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cancelled: bool
) -> None:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 200)
    csv = tmp_path / "sltd.csv"
    csv.write_text(_csv(ROWS * 3), encoding="utf-8")
    found = chunks.chunks_of([(Format.SLTD_CSV, csv)], LoadOptions(), tmp_path, chunks.Sink.PUBLISH)
    found = [dataclasses.replace(c, cancelled=cancelled, partitions=6) for c in found]
    report = chunks.parse_all(found, lambda _: None)
    published = [r for part in report.parts for r in chunks.read_records(part)]

    parsed = [r.entry for r in parse(Format.SLTD_CSV, csv.read_text(), LoadOptions()) if r.entry]
    with (tmp_path / "expected").open("wb") as out:
        chunks.write_records(enumerate(parsed), out, cancelled, 6)
    assert published == list(chunks.read_records(tmp_path / "expected"))
    assert len(published) == report.valid == 3 * 8
    assert report.duplicate_ids == len(published) - len({key for _, key, _ in published})
    assert len(report.cancelled) == (len(published) if cancelled else 0)
