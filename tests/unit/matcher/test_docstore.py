"""The disk-backed document store gives exactly the memory index's alerts, and refuses to be
screened against when damaged, truncated or half-built (issue 27, "Must show")."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from schemas.codec import decode_entry, decode_event
from services.matcher.docstore import DocStore, StoreUnusable, build_store, open_index
from services.matcher.docstore.codec import pack_person
from services.matcher.docstore.store import DATA_FILE, StoreInUse
from services.matcher.domain import (
    EventRecord,
    Match,
    Screener,
    WatchlistIndex,
    entry_record,
    event_record,
)
from services.matcher.domain.records import DocumentRef, EntryRecord, PersonRecord
from tests.unit.matcher.helpers import event, person_entry, sltd_entry

TOPIC = "t.watchlist.entries"

# Cases the labelled set holds few of: a Cyrillic series (look-alike letters), a formatted
# number, the same number of another state, two entries listing one document, a person's
# passport, an entry id that is not the derived one, a restricted entry.
EXTRA_ENTRIES: list[dict[str, Any]] = [
    sltd_entry("DOC-KAZ-AB1234567", "АВ1234567", "KAZ"),  # Cyrillic А and В
    sltd_entry("SLTD-CUSTOM-1", "n0 12-34.56/7", "KGZ"),
    sltd_entry("SLTD-CUSTOM-2", "N01234567", "KGZ"),  # the same document, listed twice
    {**sltd_entry("SLTD-RESTRICTED", "RR0000001", "TJK"),
     "dissemination": {"restricted_to": ["KAZ"]}, "issuer": "RUS", "action": "locate"},
    person_entry("RED-X-1", [{"surname": "KHOLMATOV", "given_names": "ALISHER"}],
                 date_of_birth="1985-03-02",
                 documents=[{"number": "FA1234567", "issuing_state": "UZB", "type": "P"},
                            {"number": "N0 1234567", "issuing_state": "KGZ"}]),
]  # fmt: skip


def _presenting(event_id: str, number: str, state: str) -> dict[str, Any]:
    return event("A", "B", event_id=event_id, document={"number": number, "issuing_state": state})


EXTRA_EVENTS: list[dict[str, Any]] = [
    _presenting("e-lookalike", "AB-1234567", "KAZ"),
    _presenting("e-cyrillic", "ав 1234567", "KAZ"),
    _presenting("e-other-state", "AB1234567", "UZB"),
    _presenting("e-three-holders", "n01234567", "KGZ"),
    _presenting("e-restricted", "rr 000 0001", "TJK"),
    event("KHOLMATOV", "ALISHER", event_id="e-person", date_of_birth="1985-03-02",
          document={"number": "fa1234567", "issuing_state": "UZB"}),
]  # fmt: skip


@pytest.fixture(scope="module")
def entries(shared_data: Path) -> list[EntryRecord]:
    lines = (shared_data / "screening-dev" / "watchlist.jsonl").read_bytes().splitlines()
    return [entry_record(decode_entry(line)) for line in lines if line.strip()] + [
        entry_record(e) for e in EXTRA_ENTRIES
    ]


@pytest.fixture(scope="module")
def events(shared_data: Path) -> list[EventRecord]:
    lines = (shared_data / "screening-dev" / "events.jsonl").read_bytes().splitlines()
    return [event_record(decode_event(line)) for line in lines if line.strip()] + [
        event_record(e) for e in EXTRA_EVENTS
    ]


@pytest.fixture(scope="module")
def memory_alerts(entries: list[EntryRecord], events: list[EventRecord]) -> list[list[Match]]:
    index = WatchlistIndex()
    for record in entries:
        index.upsert(record)
    return Screener(index).screen_many(events)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store"


def _alerts(index: WatchlistIndex, events: list[EventRecord]) -> list[list[Match]]:
    return Screener(index).screen_many(events)


def test_a_built_store_alerts_exactly_as_the_memory_index(
    entries: list[EntryRecord],
    events: list[EventRecord],
    memory_alerts: list[list[Match]],
    store_path: Path,
) -> None:
    build_store(store_path, TOPIC, entries, {0: 7})
    store = DocStore.open(store_path, TOPIC)
    index = open_index(store)
    assert len(index) == len(entries)
    alerts = _alerts(index, events)
    assert sum(map(len, alerts)) > 3000
    assert alerts == memory_alerts  # every match: entry, band, score, explanation, record
    by_event = {
        e.event_id: {m.entry_id for m in found} for e, found in zip(events, alerts, strict=True)
    }
    assert by_event["e-lookalike"] == by_event["e-cyrillic"] == {"DOC-KAZ-AB1234567"}
    assert by_event["e-other-state"] == set()
    assert by_event["e-three-holders"] == {"SLTD-CUSTOM-1", "SLTD-CUSTOM-2", "RED-X-1"}
    assert by_event["e-restricted"] == {"SLTD-RESTRICTED"}
    assert by_event["e-person"] == {"RED-X-1"}
    store.close()


def test_live_changes_through_the_store_alert_as_the_memory_index(
    entries: list[EntryRecord], events: list[EventRecord], store_path: Path
) -> None:
    """Entries written one batch at a time (as the matcher does), then changed, cancelled and
    tombstoned, and the store reopened: the same alerts as a memory index given the same."""
    store = DocStore.create(store_path, TOPIC)
    index = open_index(store)
    memory = WatchlistIndex()
    for start in range(0, len(entries), 5000):
        with store.writing({0: start}):
            for record in entries[start : start + 5000]:
                index.upsert(record)
                memory.upsert(record)
    changes: list[EntryRecord] = [
        entry_record({**sltd_entry("SLTD-CUSTOM-1", "ZZ9999999", "KGZ")}),  # number changed
        entry_record({**EXTRA_ENTRIES[4], "status": "cancelled"}),
    ]
    gone = [e.entry_id for e in entries[:300:3]]  # people and documents
    with store.writing({0: len(entries), 1: 5}):
        for record in changes:
            index.upsert(record)
            memory.upsert(record)
        for entry_id in gone:
            index.remove(entry_id)
            memory.remove(entry_id)
    assert _alerts(index, events) == _alerts(memory, events)
    store.close()

    reopened = DocStore.open(store_path, TOPIC)
    assert reopened.offsets() == {0: len(entries), 1: 5}
    again = open_index(reopened)
    assert len(again) == len(memory)
    assert _alerts(again, events) == _alerts(memory, events)
    reopened.close()


def test_a_write_batch_that_fails_leaves_nothing(store_path: Path) -> None:
    store = DocStore.create(store_path, TOPIC)
    index = open_index(store)
    with store.writing({0: 1}):
        index.upsert(entry_record(sltd_entry("DOC-UZB-AA1", "AA1")))

    def half_way() -> None:
        with store.writing({0: 2}):
            index.upsert(entry_record(sltd_entry("DOC-UZB-AA2", "AA2")))
            raise RuntimeError("the poll failed half-way")

    with pytest.raises(RuntimeError):
        half_way()
    assert store.offsets() == {0: 1}
    assert store.sltd_count() == 1
    assert "DOC-UZB-AA2" not in index
    assert "DOC-UZB-AA1" in index
    store.close()


def _built(path: Path, entries: list[EntryRecord]) -> Path:
    build_store(path, TOPIC, entries[:1000] + entries[-1000:], {0: 2000})  # people, documents
    return path


def test_a_truncated_store_is_refused(entries: list[EntryRecord], store_path: Path) -> None:
    data = _built(store_path, entries) / DATA_FILE
    with data.open("r+b") as handle:
        handle.truncate(data.stat().st_size // 2)
    with pytest.raises(StoreUnusable, match=r"truncated|damaged|does not open"):
        DocStore.open(store_path, TOPIC)


def test_a_store_with_garbage_in_its_pages_is_refused(
    entries: list[EntryRecord], store_path: Path
) -> None:
    data = _built(store_path, entries) / DATA_FILE
    with data.open("r+b") as handle:  # both meta pages, where LMDB finds its roots
        handle.write(b"\xa5" * 8192)
    with pytest.raises(StoreUnusable, match=r"damaged|does not open"):
        DocStore.open(store_path, TOPIC)


def test_a_store_with_a_damaged_value_is_refused(
    entries: list[EntryRecord], store_path: Path
) -> None:
    store = DocStore.open(_built(store_path, entries), TOPIC)
    docs = store.env.open_db(b"docs")  # before the transaction: opening one takes the writer
    with store.env.begin(write=True) as txn:
        cursor = txn.cursor(docs)
        assert cursor.first()
        cursor.put(cursor.key(), b"\x00not marshal")
    store.close()
    with pytest.raises(StoreUnusable, match="damaged"):
        DocStore.open(store_path, TOPIC)


def test_a_half_built_or_foreign_store_is_refused(
    entries: list[EntryRecord], store_path: Path
) -> None:
    store = DocStore.open(_built(store_path, entries), TOPIC)
    meta = store.env.open_db(b"meta")
    with store.env.begin(write=True) as txn:
        txn.delete(b"complete", db=meta)
    store.close()
    with pytest.raises(StoreUnusable, match="never finished"):
        DocStore.open(store_path, TOPIC)
    shutil.rmtree(store_path)
    _built(store_path, entries)
    with pytest.raises(StoreUnusable, match="reflects topic"):
        DocStore.open(store_path, "other.watchlist.entries")
    with pytest.raises(StoreUnusable, match="no store"):
        DocStore.open(store_path / "missing", TOPIC)


def test_a_build_that_fails_leaves_the_old_store(
    entries: list[EntryRecord], store_path: Path
) -> None:
    _built(store_path, entries)

    def failing() -> Iterator[EntryRecord]:
        yield from entries[:10]
        raise RuntimeError("the feed broke off")

    with pytest.raises(RuntimeError):
        build_store(store_path, TOPIC, failing(), {0: 10})
    kept = DocStore.open(store_path, TOPIC, readonly=True)
    assert kept.offsets() == {0: 2000}
    kept.close()
    assert not store_path.with_name(store_path.name + ".building").exists()


def test_one_writing_process_per_store(entries: list[EntryRecord], store_path: Path) -> None:
    writer = DocStore.open(_built(store_path, entries), TOPIC)
    with pytest.raises(StoreInUse):
        DocStore.open(store_path, TOPIC)
    with pytest.raises(StoreInUse):
        DocStore.create(store_path, TOPIC)  # nor is it replaced under the writer
    with pytest.raises(StoreInUse):
        build_store(store_path, TOPIC, entries[:10], None)
    assert writer.offsets() == {0: 2000}
    writer.close()
    DocStore.open(store_path, TOPIC).close()  # free again


def test_people_keyed_by_other_name_rules_are_keyed_again(
    entries: list[EntryRecord], store_path: Path
) -> None:
    """An upgrade that changes a name rule: the stored keys are stale, so a writable open keys
    the people again (a read-only one refuses the store) and they are found as before."""
    person = entry_record(EXTRA_ENTRIES[4])
    assert isinstance(person, PersonRecord)
    build_store(store_path, TOPIC, [person], None)
    store = DocStore.open(store_path, TOPIC)
    persons, meta = store.env.open_db(b"persons"), store.env.open_db(b"meta")
    with store.env.begin(write=True) as txn:  # as an older release would have left it
        txn.put(b"RED-X-1", pack_person(person, ["NOTHINGLIKEIT"], False), db=persons)
        txn.put(b"keys", b"older rules", db=meta)
    store.close()
    readonly = DocStore.open(store_path, TOPIC, readonly=True)
    with pytest.raises(StoreUnusable, match="other name rules"):
        open_index(readonly)
    readonly.close()
    store = DocStore.open(store_path, TOPIC)
    index = open_index(store)
    found = Screener(index).screen(event_record(EXTRA_EVENTS[5] | {"document": None}))
    assert [m.entry_id for m in found] == ["RED-X-1"]
    assert store.keyed_by_current_rules()
    store.close()


def test_a_build_keeps_the_last_record_of_each_id_as_the_topic_does(store_path: Path) -> None:
    """One id listed again with another number, then cancelled or changed back; ids that read
    as the same number to awk; many records in a row (their order numbers differ in the last
    digits only): the store holds what a compacted topic keeps, the last of each id."""
    records = [entry_record(sltd_entry(f"{n}", f"OLD{n}")) for n in ("1e5", "100000", "7")]
    records += [entry_record(sltd_entry(f"F-{n}", f"F{n:07d}")) for n in range(3000)]
    records += [
        entry_record(sltd_entry("1e5", "NEW1")),  # the first of the two "numbers" moves
        entry_record({**sltd_entry("7", "OLD7"), "status": "cancelled"}),
        entry_record(sltd_entry("F-5", "F0000005X")),
    ]
    build_store(store_path, TOPIC, records, None)
    store = DocStore.open(store_path, TOPIC, readonly=True)
    index = open_index(store)

    def holders(number: str) -> set[str]:
        return {h.entry_id for h in index.by_document(DocumentRef(number, "UZB", "P"))}

    assert holders("NEW1") == {"1e5"}
    assert holders("OLD1e5") == set()
    assert holders("OLD100000") == {"100000"}
    assert holders("OLD7") == set()
    assert holders("F0000005") == set()
    assert holders("F0000005X") == {"F-5"}
    assert holders("F0002999") == {"F-2999"}
    assert len(index) == 3002  # 1e5, 100000 and the 3000 F- entries
    store.close()
