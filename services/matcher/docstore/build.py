"""Building a store from a whole list at once (``relay watchlist build-index``, ``relay screen``).

LMDB fills its pages best, and fastest, when keys arrive in order (``append``). The records go
through two external sorts (GNU sort, on disk, bounded memory): the first by entry id, so the
last record of an id wins as it does on the compacted topic (awk keeps it), the second by
document key, so the holders of one document arrive together and in key order. The store is
built beside its final place and renamed into it when complete: a build that dies leaves the
old store, or none, never a half-built one.
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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from services.matcher.docstore.codec import derived_id, pack_person, pack_sltd
from services.matcher.docstore.keys import keys_fingerprint
from services.matcher.docstore.store import FORMAT, DocStore, _open_env, writer_lock
from services.matcher.domain.documents import document_key
from services.matcher.domain.index import person_keys
from services.matcher.domain.records import Cancelled, EntryRecord, SltdRecord

_SEQ_WIDTH = 20  # a record's place in topic order, written as 10**20 - n: ascending is newest first
_COMMIT_EVERY = 1_000_000
_SORT_MEMORY = "1G"
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


def write_lines(records: Iterable[tuple[int, EntryRecord]], out: IO[str]) -> int:
    """Write (place in topic order, record) as sort lines ``entry_id, seq, key, kind, payload``;
    kinds: S an SLTD entry, N a person (its packed record), P a person's document, C a
    cancelled entry. Returns how many records were written. Workers of a parallel parse each
    write their own file; ``build_from_parts`` sorts them together."""
    written = 0
    for n, record in records:
        seq = f"{10**_SEQ_WIDTH - n:0{_SEQ_WIDTH + 1}d}"
        entry_id = record.entry_id
        written += 1
        if isinstance(record, Cancelled):
            out.write(f"{entry_id}\t{seq}\t\tC\t\n")
        elif isinstance(record, SltdRecord):
            packed = marshal.dumps(pack_sltd(record), 4).hex()
            out.write(f"{entry_id}\t{seq}\t{record.key or ''}\tS\t{packed}\n")
        else:
            keys, single = person_keys(record)
            packed = pack_person(record, sorted(keys), single).hex()
            out.write(f"{entry_id}\t{seq}\t\tN\t{packed}\n")
            documents = {document_key(d.issuing_state, d.number) for d in record.documents}
            for key in sorted(k for k in documents if k is not None):
                out.write(f"{entry_id}\t{seq}\t{key}\tP\t\n")
    return written


def _pipeline(parts: list[Path], scratch: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "LC_ALL": "C"}
    sort = f"sort -S {_SORT_MEMORY} -T {shlex.quote(str(scratch))}"
    files = " ".join(shlex.quote(str(p)) for p in parts)
    command = f"{sort} -t '\t' -k1,1 -k2,2 {files} | awk -F '\t' '{_LAST_OF_EACH_ID}' | {sort}"
    return subprocess.Popen(  # noqa: S602 - a fixed pipeline of coreutils over our own files
        command, shell=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=env,
        text=True, bufsize=1 << 20,
    )  # fmt: skip


def build_store(
    path: Path, topic: str, records: Iterable[EntryRecord], offsets: Mapping[int, int] | None
) -> BuildResult:
    """Build the store of ``records`` (in topic order: the last of an id wins) at ``path``."""
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".parts-") as scratch:
        part = Path(scratch) / "part-0"
        with part.open("w") as out:
            write_lines(enumerate(records), out)
        return build_from_parts(path, topic, [part], offsets)


def build_from_parts(
    path: Path, topic: str, parts: list[Path], offsets: Mapping[int, int] | None
) -> BuildResult:
    """Build the store at ``path`` from sort-line files (``write_lines``), recording
    ``offsets`` as the topic's next offsets it reflects (None: none; the matcher then reads
    the whole topic on top of it). Whatever was at ``path`` is replaced only once complete."""
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
        process = _pipeline(parts, Path(scratch))
        assert process.stdout is not None
        with process.stdout:
            _fill(path, topic, process.stdout, offsets, result)
        if process.wait() != 0:
            raise RuntimeError(f"the sort pipeline failed (exit {process.returncode})")


def _fill(
    path: Path, topic: str, lines: IO[str], offsets: Mapping[int, int] | None, result: BuildResult
) -> None:
    store = DocStore(_open_env(path, create=True), path)  # a fresh directory nobody else opens
    env = store.env
    docs, ids, persons, meta = store._docs, store._ids, store._persons, store._meta
    txn = env.begin(write=True)
    pending = 0
    key = None
    holders: list[object] = []

    def flush() -> None:
        if key and holders:
            txn.put(key.encode(), marshal.dumps(tuple(holders), 4), db=docs, append=True)
            result.documents += 1

    for line in lines:
        doc_key, entry_id, kind, payload = line.rstrip("\n").split("\t")
        if doc_key != key:
            flush()
            key, holders = doc_key, []
        if kind == "S":
            result.sltd += 1
            if not doc_key or entry_id != derived_id(doc_key):
                txn.put(entry_id.encode(), doc_key.encode(), db=ids)
            if doc_key:
                holders.append(marshal.loads(bytes.fromhex(payload)))  # noqa: S302 - ours
        elif kind == "P":
            holders.append(entry_id)
        elif kind == "N":
            txn.put(entry_id.encode(), bytes.fromhex(payload), db=persons, append=True)
            result.persons += 1
        pending += 1
        if pending >= _COMMIT_EVERY:
            txn.commit()
            txn, pending = env.begin(write=True), 0
    flush()
    txn.put(b"format", FORMAT, db=meta)
    txn.put(b"topic", topic.encode(), db=meta)
    txn.put(b"sltd", str(result.sltd).encode(), db=meta)
    txn.put(b"keys", keys_fingerprint(), db=meta)
    txn.put(b"updated_at", repr(time.time()).encode(), db=meta)
    if offsets is not None:
        txn.put(b"offsets", _offsets_json(offsets), db=meta)
    txn.put(b"complete", b"1", db=meta)
    txn.commit()
    env.sync(True)
    store.close()


def _offsets_json(offsets: Mapping[int, int]) -> bytes:
    return json.dumps({str(p): o for p, o in sorted(offsets.items())}, sort_keys=True).encode()
