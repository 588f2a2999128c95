"""Building a store from a whole list at once (``relay watchlist build-index``, ``relay screen``).

The parsers write sort lines (``lines``): entries under ids derived from a document key, nearly
all of them at 10^8 documents, to ``.doc`` files; every other entry to ``.gen`` files. LMDB
fills its pages best, and fastest, when keys arrive in order (``append``), so:

1. the ``.doc`` lines are sorted once, stably, on their key alone (GNU sort, on disk, bounded
   memory); the last line of each key is its entry's latest version, filed in key order;
2. the ``.gen`` lines are sorted by entry id, newest first, and awk keeps each id's latest
   version; people are filed in id order, their documents and the other SLTD entries join the
   holders already filed under their keys;
3. the few ``.doc`` entries not filed under their own key (a person under a derived id, an SLTD
   entry whose number folds to another key) are filed last, as in 2.

The store is built beside its final place and renamed into it when complete: a build that dies
leaves the old store, or none, never a half-built one.
"""

from __future__ import annotations

import json
import marshal
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any

import lmdb

from services.matcher.docstore.codec import derived_id
from services.matcher.docstore.keys import keys_fingerprint
from services.matcher.docstore.lines import (
    PartWriter,
    deferred,
    doc_part,
    gen_part,
    plain_holder,
    write_lines,
)
from services.matcher.docstore.store import FORMAT, DocStore, _open_env, writer_lock
from services.matcher.domain.records import EntryRecord

_COMMIT_EVERY = 1_000_000
_SORT_MEMORY = "1G"
_VERSION = 4
# The last record of each entry id (sorted by id, then newest first): every line of it. The
# fields are compared as text ($1 ""): awk would compare "1e5" and "100000", or two 21-digit
# sequence numbers, as the same number.
_LAST_OF_EACH_ID = (
    r'$1 "" != id { id = $1 ""; seq = $2 "" } $2 "" == seq { print $3 "\t" $1 "\t" $4 "\t" $5 }'
)


@dataclass
class BuildResult:
    persons: int = 0
    sltd: int = 0
    documents: int = 0
    seconds: float = 0.0


def build_store(
    path: Path, topic: str, records: Iterable[EntryRecord], offsets: Mapping[int, int] | None
) -> BuildResult:
    """Build the store of ``records`` (in topic order: the last of an id wins) at ``path``."""
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".parts-") as scratch:
        part = Path(scratch) / "part-0"
        with PartWriter(part) as out:
            write_lines(enumerate(records), out)
        return build_from_parts(path, topic, [part], offsets)


def build_from_parts(
    path: Path, topic: str, parts: list[Path], offsets: Mapping[int, int] | None
) -> BuildResult:
    """Build the store at ``path`` from the parts ``PartWriter`` wrote (in feed order),
    recording ``offsets`` as the topic's next offsets it reflects (None: none; the matcher then
    reads the whole topic on top of it). Whatever was at ``path`` is replaced only once
    complete."""
    started = time.perf_counter()
    result = BuildResult()
    lock = writer_lock(path)  # no matcher writes the store while it is replaced
    building = path.with_name(path.name + ".building")
    if building.exists():
        shutil.rmtree(building)
    building.mkdir(parents=True)
    done = False
    try:
        _sort_and_fill(building, topic, parts, offsets, result)
        if path.exists():
            shutil.rmtree(path)
        building.rename(path)
        done = True
    finally:
        if not done:  # a failed or interrupted build leaves nothing behind
            shutil.rmtree(building, ignore_errors=True)
        lock.close()
    result.seconds = time.perf_counter() - started
    return result


def _sort_and_fill(
    path: Path,
    topic: str,
    parts: list[Path],
    offsets: Mapping[int, int] | None,
    result: BuildResult,
) -> None:
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".sort-") as scratch:
        sort = f"sort -S {_SORT_MEMORY} -T {shlex.quote(scratch)} -t '\t'"
        filler = _Filler(DocStore(_open_env(path, create=True), path), Path(scratch), result)
        docs = " ".join(shlex.quote(str(doc_part(p))) for p in parts)
        with _sorted(f"{sort} -s -k1,1 {docs}") as lines:
            filler.documents(lines)
        general = " ".join(shlex.quote(str(gen_part(p))) for p in parts)
        with _sorted(f"{sort} -k1,1 -k2,2 {general} | awk -F '\t' '{_LAST_OF_EACH_ID}'") as lines:
            filler.general((line.rstrip("\n").split("\t") for line in lines), append=True)
        filler.general(filler.deferred(), append=False)
        filler.finish(topic, offsets)


@contextmanager
def _sorted(command: str) -> Iterator[IO[str]]:
    """The output of a fixed pipeline of coreutils over our own files; it must succeed."""
    env = {**os.environ, "LC_ALL": "C"}
    process = subprocess.Popen(  # noqa: S602 - a fixed pipeline over our own files
        command, shell=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=env,
        text=True, bufsize=1 << 20,
    )  # fmt: skip
    assert process.stdout is not None
    with process.stdout:
        yield process.stdout
    if process.wait() != 0:
        raise RuntimeError(f"the sort pipeline failed (exit {process.returncode})")


def _latest(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(group, the rest of its last line) of lines sorted stably by group."""
    group: str | None = None
    last = ""
    for line in lines:
        head, _, rest = line.partition("\t")
        if head != group:
            if group is not None:
                yield group, last
            group = head
        last = rest
    if group is not None:
        yield group, last


class _Filler:
    """Writes a fresh store (a directory nobody else opens) in large transactions."""

    def __init__(self, store: DocStore, scratch: Path, result: BuildResult) -> None:
        self.store = store
        self.env = store.env
        self.result = result
        self._deferred_path = scratch / "deferred"
        self._deferred: IO[str] = self._deferred_path.open("w")

    def documents(self, lines: Iterable[str]) -> None:
        """The ``.doc`` lines sorted by key: each key's latest entry, appended in key order."""
        values = self._document_values(lines)
        docs = self.store._docs
        while True:
            with self.env.begin(write=True) as txn:
                consumed, _ = txn.cursor(db=docs).putmulti(
                    islice(values, _COMMIT_EVERY), append=True
                )
            if consumed < _COMMIT_EVERY:
                return

    def _document_values(self, lines: Iterable[str]) -> Iterator[tuple[bytes, bytes]]:
        plain: dict[str, bytes] = {}  # type and status -> the value: a handful in 10^8
        result, later = self.result, self._deferred
        for group, rest in _latest(lines):
            kind = rest[0]
            if kind == "s":
                value = plain.get(rest)
                if value is None:
                    _, type_, status = rest.rstrip("\n").split("\t")
                    value = marshal.dumps((plain_holder(type_ or None, status),), _VERSION)
                    plain[rest] = value
                result.sltd += 1
                yield group.encode(), value
            elif kind == "S" and (fields := rest.rstrip("\n").split("\t"))[1] == group:
                packed = marshal.loads(bytes.fromhex(fields[2]))  # noqa: S302 - ours
                result.sltd += 1
                yield group.encode(), marshal.dumps((packed,), _VERSION)
            elif kind != "C":
                later.write(f"{derived_id(group)}\t{rest}")

    def deferred(self) -> Iterator[list[str]]:
        self._deferred.close()
        with self._deferred_path.open() as lines:
            for line in lines:
                entry_id, _, rest = line.partition("\t")
                yield from (list(fields) for fields in deferred(entry_id, rest))

    def general(self, lines: Iterable[list[str]], *, append: bool) -> None:
        """(key, entry id, kind, payload) of each entry's latest version: people filed (in id
        order when ``append``), documents added to the holders under their keys."""
        txn = self.env.begin(write=True)
        store, pending = self.store, 0
        for key, entry_id, kind, payload in lines:
            if kind == "N":
                txn.put(entry_id.encode(), bytes.fromhex(payload), db=store._persons, append=append)
            elif kind == "S":
                self.result.sltd += 1
                if not key or entry_id != derived_id(key):
                    txn.put(entry_id.encode(), key.encode(), db=store._ids)
                if key:
                    _add_holder(txn, store._docs, key, marshal.loads(bytes.fromhex(payload)))  # noqa: S302
            elif kind == "P":
                _add_holder(txn, store._docs, key, entry_id)
            pending += 1
            if pending >= _COMMIT_EVERY:
                txn.commit()
                txn, pending = self.env.begin(write=True), 0
        txn.commit()

    def finish(self, topic: str, offsets: Mapping[int, int] | None) -> None:
        store, result = self.store, self.result
        meta = store._meta
        with self.env.begin(write=True) as txn:
            txn.put(b"format", FORMAT, db=meta)
            txn.put(b"topic", topic.encode(), db=meta)
            txn.put(b"sltd", str(result.sltd).encode(), db=meta)
            txn.put(b"keys", keys_fingerprint(), db=meta)
            txn.put(b"updated_at", repr(time.time()).encode(), db=meta)
            if offsets is not None:
                txn.put(b"offsets", _offsets_json(offsets), db=meta)
            txn.put(b"complete", b"1", db=meta)
            result.persons = txn.stat(store._persons)["entries"]
            result.documents = txn.stat(store._docs)["entries"]
        self.env.sync(True)
        store.close()


def _add_holder(txn: lmdb.Transaction, docs: Any, key: str, holder: Any) -> None:
    """One more holder of the document ``key`` (after those filed before)."""
    raw = key.encode()
    found = txn.get(raw, db=docs)
    holders = () if found is None else marshal.loads(found)  # noqa: S302 - ours
    txn.put(raw, marshal.dumps((*holders, holder), _VERSION), db=docs)


def _offsets_json(offsets: Mapping[int, int]) -> bytes:
    return json.dumps({str(p): o for p, o in sorted(offsets.items())}, sort_keys=True).encode()
