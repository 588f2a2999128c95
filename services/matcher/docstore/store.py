"""The disk-backed document store: LMDB, memory-mapped, one writer, screening reads a snapshot.

Four named databases in one environment (a directory holding ``data.mdb`` and ``lock.mdb``):

- ``docs``: document key (``UZB:FA1234567``) -> its holders (``codec.pack_holders``);
- ``ids``: entry id -> document key, for SLTD entries whose id is not the derived one (a
  tombstone names only the id);
- ``persons``: entry id -> the person with its blocking keys (restored to memory at start);
- ``meta``: the format, the topic it reflects and the next offset of each of its partitions,
  the SLTD count, and ``complete`` once a build finished.

Every change of a poll batch and the offsets after it are one write transaction: a SIGKILL
leaves the store as of the last committed batch (LMDB writes copy-on-write and switches its
root page last), and the reader reads on from the offsets it recorded. Screening reads through
a read transaction renewed after each commit, so it sees a batch whole or not at all. The map
is read-only to the process (no ``writemap``): a stray write cannot reach the file.

``open`` checks what LMDB cannot: a file shorter than its last page (truncated), a format or
topic other than expected, a build that never finished, and values that do not decode; any of
these raises ``StoreUnusable`` with the reason, and the caller rebuilds.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import IO, Any, cast

import lmdb

from services.matcher.docstore.codec import (
    Holder,
    StoreCorrupt,
    decode_person,
    derived_id,
    derived_key,
    pack_holders,
    pack_person,
    unpack_holders,
    unpack_keys_many,
    unpack_person,
)
from services.matcher.docstore.keys import keys_fingerprint
from services.matcher.domain.documents import document_key
from services.matcher.domain.index import FiledPeople
from services.matcher.domain.records import PersonRecord, SltdRecord

FORMAT = b"relay-docstore/2"  # 2: a person's keys in one bytes (codec.KEY_SEPARATOR)
DATA_FILE = "data.mdb"
MAP_SIZE = 1 << 40  # address space only: the file grows as it is written
_DBS = (b"docs", b"ids", b"persons", b"meta")


class StoreUnusable(Exception):
    """The store cannot be screened against; the message says why."""


class StoreInUse(RuntimeError):
    """Another process writes this store: each matcher process keeps a store of its own."""


def _open_env(path: Path, *, create: bool, readonly: bool = False) -> lmdb.Environment:
    return lmdb.open(
        str(path), map_size=MAP_SIZE, max_dbs=len(_DBS), subdir=True, create=create,
        readonly=readonly, readahead=False, meminit=False, max_readers=256,
    )  # fmt: skip


class DocStore:
    """One store directory. ``DocStore.open(path, topic)`` or ``DocStore.create(path, topic)``."""

    def __init__(self, env: lmdb.Environment, path: Path, lock: IO[bytes] | None = None) -> None:
        self.path = path
        self.env = env
        self._lock = lock  # held by the writing process (``writer_lock``)
        self._docs, self._ids, self._persons, self._meta = (
            env.open_db(name, create=not env.flags()["readonly"]) for name in _DBS
        )
        self._write: lmdb.Transaction | None = None
        self._read: lmdb.Transaction = env.begin(buffers=False)
        self._sltd = int(self._get_meta(b"sltd") or 0)

    # --- opening -------------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path, topic: str) -> DocStore:
        """A new, empty store (whatever was at ``path`` is removed)."""
        lock = writer_lock(path)
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        store = cls(_open_env(path, create=True), path, lock)
        with store.env.begin(write=True) as txn:
            txn.put(b"format", FORMAT, db=store._meta)
            txn.put(b"topic", topic.encode(), db=store._meta)
            txn.put(b"sltd", b"0", db=store._meta)
            txn.put(b"keys", keys_fingerprint(), db=store._meta)
            txn.put(b"complete", b"1", db=store._meta)
        store._renew()
        return store

    @classmethod
    def open(cls, path: Path, topic: str | None = None, *, readonly: bool = False) -> DocStore:
        """An existing store, checked; ``StoreUnusable`` says why it cannot be used, and
        ``StoreInUse`` that another process writes it (unless ``readonly``)."""
        data = path / DATA_FILE
        if not data.is_file():
            raise StoreUnusable(f"no store at {path}")
        lock = None if readonly else writer_lock(path)
        try:
            env = _open_env(path, create=False, readonly=readonly)
        except lmdb.Error as exc:
            _release(lock)
            raise StoreUnusable(f"the store file does not open ({exc})") from exc
        try:
            _check_length(env, data)
            store = cls(env, path, lock)
            store._check(topic)
        except (lmdb.Error, StoreCorrupt, StoreUnusable) as exc:
            env.close()
            _release(lock)
            if isinstance(exc, StoreUnusable):
                raise
            raise StoreUnusable(f"the store is damaged ({exc})") from exc
        return store

    def _check(self, topic: str | None) -> None:
        if self._get_meta(b"format") != FORMAT:
            raise StoreUnusable(
                f"the store's format is {self._get_meta(b'format')!r}, not {FORMAT!r}"
            )
        if self._get_meta(b"complete") != b"1":
            raise StoreUnusable("the store's build never finished")
        if topic is not None and self._get_meta(b"topic") != topic.encode():
            raise StoreUnusable(f"the store reflects topic {self.topic!r}, not {topic!r}")
        # LMDB checks its pages' headers as it reads them: walk the first and last pages of
        # every database, and decode a value of each.
        for db, decode in (
            (self._docs, lambda k, v: unpack_holders(k.decode(), v)),
            (self._persons, lambda _k, v: unpack_person(v)),
            (self._ids, lambda _k, v: v),
        ):
            self._read.stat(db)
            cursor = self._read.cursor(db)
            for move in (cursor.first, cursor.last):
                if move():
                    decode(cursor.key(), cursor.value())

    # --- meta ----------------------------------------------------------------------------

    def _get_meta(self, key: bytes) -> bytes | None:
        txn = self._write or self._read
        value = txn.get(key, db=self._meta)
        return None if value is None else bytes(value)

    @property
    def topic(self) -> str:
        return (self._get_meta(b"topic") or b"").decode()

    def offsets(self) -> dict[int, int]:
        """Partition -> the next offset to read (empty: nothing read from the topic yet)."""
        raw = self._get_meta(b"offsets")
        return {int(p): int(o) for p, o in json.loads(raw).items()} if raw else {}

    def updated_at(self) -> float | None:
        raw = self._get_meta(b"updated_at")
        return float(raw) if raw else None

    def sltd_count(self) -> int:
        return self._sltd

    def stats(self) -> dict[str, Any]:
        return {
            "persons": self._read.stat(self._persons)["entries"],
            "documents": self._read.stat(self._docs)["entries"],
            "sltd": self._sltd,
            "file_bytes": (self.path / DATA_FILE).stat().st_blocks * 512,
        }

    # --- reading -------------------------------------------------------------------------

    def holders(self, key: str) -> tuple[Holder, ...]:
        value = (self._write or self._read).get(key.encode(), db=self._docs)
        return () if value is None else unpack_holders(key, bytes(value))

    def people(self, batch: int = 50_000) -> Iterator[FiledPeople]:
        """Every person, ``batch`` at a time, as columns (``FiledPeople``): a million are read
        without a Python call per person, and only a batch of their keys is held at once."""
        # bytes, not buffers: the read transaction is begun with buffers=False
        ids = cast(Iterator[bytes], self._read.cursor(self._persons).iternext(values=False))
        values = cast(Iterator[bytes], self._read.cursor(self._persons).iternext(keys=False))
        while chunk := list(islice(ids, batch)):
            yield FiledPeople(
                list(map(bytes.decode, chunk)), *unpack_keys_many(islice(values, len(chunk)))
            )

    @staticmethod
    def decode_person(packed: bytes) -> PersonRecord:
        return decode_person(packed)

    def person(self, entry_id: str) -> PersonRecord | None:
        value = self._read.get(entry_id.encode(), db=self._persons)
        return None if value is None else unpack_person(bytes(value))[0]

    def has_sltd(self, entry_id: str) -> bool:
        return self._sltd_key(entry_id) is not None

    def _sltd_key(self, entry_id: str) -> str | None:
        txn = self._write or self._read
        found = txn.get(entry_id.encode(), db=self._ids)
        if found is not None:
            return bytes(found).decode()
        key = derived_key(entry_id)
        if key is not None:
            for holder in self.holders(key):
                if isinstance(holder, SltdRecord) and holder.entry_id == entry_id:
                    return key
        return None

    def keyed_by_current_rules(self) -> bool:
        return self._get_meta(b"keys") == keys_fingerprint()

    def rekey(self, keys_of: Callable[[PersonRecord], tuple[set[str], bool]]) -> int:
        """Key every person again with the current rules (``keys``), in one transaction."""
        count = 0
        with self.writing():  # read from the snapshot before it, written in it
            txn = self._txn()
            for key, value in self._read.cursor(self._persons):
                record = unpack_person(bytes(value))[0]
                found, single = keys_of(record)
                txn.put(key, pack_person(record, sorted(found), single), db=self._persons)
                count += 1
            txn.put(b"keys", keys_fingerprint(), db=self._meta)
        return count

    # --- writing -------------------------------------------------------------------------

    @contextmanager
    def writing(self, offsets: Mapping[int, int] | None = None) -> Iterator[None]:
        """One write transaction; ``offsets`` (the next offset per partition after the records
        applied inside) are recorded in it. Nothing is kept if the block raises."""
        txn = self.env.begin(write=True)
        self._write = txn
        count = self._sltd
        try:
            yield
            if offsets is not None:
                merged = {**self.offsets(), **offsets}
                txn.put(b"offsets", json.dumps(merged, sort_keys=True).encode(), db=self._meta)
            txn.put(b"sltd", str(self._sltd).encode(), db=self._meta)
            txn.put(b"updated_at", repr(time.time()).encode(), db=self._meta)
        except BaseException:
            txn.abort()
            self._sltd = count
            raise
        finally:
            self._write = None
        txn.commit()
        self._renew()

    def _txn(self) -> lmdb.Transaction:
        if self._write is None:
            raise RuntimeError("store writes happen inside DocStore.writing()")
        return self._write

    def _set(self, key: str, holders: Sequence[Holder]) -> None:
        if holders:
            self._txn().put(key.encode(), pack_holders(holders), db=self._docs)
        else:
            self._txn().delete(key.encode(), db=self._docs)

    def put_sltd(self, record: SltdRecord) -> None:
        """File an SLTD entry (the index removed its previous version first)."""
        key = record.key or ""
        txn = self._txn()
        if record.key is None or record.entry_id != derived_id(key):
            txn.put(record.entry_id.encode(), key.encode(), db=self._ids)
        if record.key is not None:
            self._set(key, (*self.holders(key), record))
        self._sltd += 1

    def remove_sltd(self, entry_id: str) -> bool:
        key = self._sltd_key(entry_id)
        if key is None:
            return False
        self._txn().delete(entry_id.encode(), db=self._ids)
        if key:
            others = [h for h in self.holders(key) if _holder_id(h) != entry_id]
            self._set(key, others)
        self._sltd -= 1
        return True

    def put_person(self, record: PersonRecord, keys: Sequence[str], single: bool) -> None:
        self._txn().put(
            record.entry_id.encode(), pack_person(record, keys, single), db=self._persons
        )
        for key in _document_keys(record):
            self._set(key, (*self.holders(key), record.entry_id))

    def remove_person(self, record: PersonRecord) -> None:
        self._txn().delete(record.entry_id.encode(), db=self._persons)
        for key in _document_keys(record):
            self._set(key, [h for h in self.holders(key) if _holder_id(h) != record.entry_id])

    # --- lifetime ------------------------------------------------------------------------

    def _renew(self) -> None:
        """A new snapshot for screening: the latest committed batch."""
        self._read.abort()
        self._read = self.env.begin(buffers=False)
        self._sltd = int(self._get_meta(b"sltd") or 0)

    def close(self) -> None:
        self._read.abort()
        self.env.close()
        _release(self._lock)


def writer_lock(path: Path) -> IO[bytes]:
    """One writing process per store (a file beside its directory, so that a rebuild, which
    replaces the directory, happens under the lock): a second matcher pointed at the same
    store would apply the topic again from offsets of its own and undo the first's changes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.with_name(path.name + ".lock").open("ab")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise StoreInUse(f"another process writes the store at {path}") from exc
    return handle


def _release(lock: IO[bytes] | None) -> None:
    if lock is not None:
        lock.close()  # closing the file releases its flock


def _holder_id(holder: Holder) -> str:
    return holder if isinstance(holder, str) else holder.entry_id


def _document_keys(record: PersonRecord) -> list[str]:
    keys = {document_key(d.issuing_state, d.number) for d in record.documents}
    return sorted(k for k in keys if k is not None)


def _check_length(env: lmdb.Environment, data: Path) -> None:
    """A data file shorter than the pages LMDB says it wrote is truncated (reading past its
    end would kill the process with SIGBUS, not raise)."""
    info, stat = env.info(), env.stat()
    needed = (info["last_pgno"] + 1) * stat["psize"]
    size = data.stat().st_size
    if size < needed:
        raise StoreUnusable(f"the store file is truncated ({size} of {needed} bytes)")
