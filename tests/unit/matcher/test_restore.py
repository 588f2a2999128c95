"""A store's people filed at start (``DocStore.people`` -> ``WatchlistIndex.restore``): batch by
batch, the same index as one batch; a person that does not decode makes the store unusable (the
matcher rebuilds it) instead of stopping the start."""

from __future__ import annotations

import marshal
from pathlib import Path

import pytest

from services.matcher.docstore import DocStore, StoreUnusable, build_store, open_index
from services.matcher.docstore.codec import pack_person, unpack_keys
from services.matcher.domain import Screener, WatchlistIndex, entry_record, event_record
from services.matcher.domain.index import person_keys
from services.matcher.domain.records import PersonRecord
from services.matcher.watchlist_state import _file_people
from tests.unit.matcher.helpers import event, person_entry

TOPIC = "t.watchlist.entries"
_SURNAMES = ["KHOLMATOV", "IVANOVA", "ABDULLAEV", "QOBULOV", "RAHIMOV", "ALIEVA", "BEKOV"]
_GIVEN = ["ALISHER", "JASUR", "DILNOZA", "ERBOL", "OLGA", "ANNA", "RUSLAN"]


def _people() -> list[PersonRecord]:
    out = []
    for n in range(60):
        names = [{"surname": _SURNAMES[n % 7], "given_names": _GIVEN[n // 7 % 7]}]
        if n % 10 == 0:
            names = [{"surname": _SURNAMES[n % 7] + "SKI"}]  # one token: single
        record = entry_record(person_entry(f"RED-{n:03d}", names, date_of_birth="1985-03-02"))
        assert isinstance(record, PersonRecord)
        out.append(record)
    return out


@pytest.fixture
def store(tmp_path: Path) -> DocStore:
    path = tmp_path / "store"
    build_store(path, TOPIC, _people(), {0: 60})
    return DocStore.open(path, TOPIC)


def _found(index: WatchlistIndex) -> list[list[str]]:
    events = [
        event_record(event(s, g, date_of_birth="1985-03-02")) for s in _SURNAMES for g in _GIVEN
    ]
    events += [event_record(event(s + "SKI", None)) for s in _SURNAMES]
    return [[m.entry_id for m in found] for found in Screener(index).screen_many(events)]


def test_people_filed_batch_by_batch_are_found_as_filed_one_by_one(store: DocStore) -> None:
    by_upsert = WatchlistIndex()
    for person in _people():
        by_upsert.upsert(person)
    expected = _found(by_upsert)
    assert sum(map(len, expected)) >= 60  # every person is found by its own names
    for batch in (1, 7, 50_000):
        index = WatchlistIndex(store)
        index.restore(store.people(batch), store.decode_person)
        assert index.people == 60
        assert _found(index) == expected
    store.close()


def test_restore_fills_only_an_empty_index(store: DocStore) -> None:
    index = open_index(store)
    with pytest.raises(ValueError, match="empty index"):
        index.restore(store.people(), store.decode_person)
    store.close()


def test_a_person_keeps_its_keys_in_the_store() -> None:
    person = _people()[1]
    keys, single = person_keys(person)
    assert unpack_keys(pack_person(person, sorted(keys), single))[:2] == (
        tuple(sorted(keys)),
        single,
    )
    with pytest.raises(ValueError, match="separator"):
        pack_person(person, ["AB\nC"], False)


@pytest.mark.parametrize(
    "value",
    [b"\x00not marshal", marshal.dumps((7, False, b"")), marshal.dumps((b"A", False))],
    ids=["undecodable", "keys-not-keys", "short"],
)
def test_a_person_that_does_not_decode_makes_the_store_unusable(
    store: DocStore, value: bytes
) -> None:
    """The checks at open read the first and last person; this one is in the middle."""
    persons = store.env.open_db(b"persons", create=False)
    with store.env.begin(write=True) as txn:
        txn.put(b"RED-030", value, db=persons)
    store._renew()
    with pytest.raises(StoreUnusable, match="damaged"):
        _file_people(store)
    DocStore.open(store.path, TOPIC).close()  # closed, its writer lock released
