"""A local snapshot of the analysis state, so a restart replays only what came after it.

``analyst.sightings`` stays the source of truth (``history.py``); the snapshot is a cache of
the state it builds, like a Kafka Streams local store beside its changelog. One file per
history topic in ``analyst_state_dir``::

    MAGIC | format (2 bytes) | header length (4) | header (JSON) | pickle | HMAC-SHA256 tag

- the header names the topic, the next offset of each partition that the state reflects, a
  fingerprint of the domain code (the analyst's, and the matcher's rules it resolves people
  by) and of the thresholds; a snapshot of other code or other thresholds is refused (the
  state's shape or meaning may differ), and the history replayed;
- the pickle holds each partition's whole ``Analyser``, except the book of leads (rebuilt
  from ``leads`` at every start), the pseudonymiser (it holds the key, which never goes to
  disk), both put back on load, and the caches objects keep of their own methods (they come
  back empty);
- the tag is a keyed HMAC over everything before it, with a key derived from the pseudonym
  key: a damaged, truncated or foreign file is refused before anything is unpickled;
- written to a temporary file, fsynced, renamed over the old one (and the directory fsynced):
  a crash leaves the old snapshot or the new one, never half of one.

The file holds personal data (the history): mode 0600 in a directory of mode 0700.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import importlib
import io
import json
import os
import pickle
import struct
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import services.analyst.domain as analyst_domain
from services.analyst.domain import Analyser, Params
from services.analyst.domain.leads import LeadBook
from services.analyst.domain.pseudonym import Pseudonymiser
from services.common import gcpolicy

FORMAT = 1
MAGIC = b"notice-relay analyst snapshot\n"
_PREFIX = struct.Struct(">HI")  # format, header length
TAG_SIZE = hashlib.sha256().digest_size
SUFFIX = ".snapshot"
# The placeholders of what the file leaves out, put back on load (see ``_Unpickler``).
_BOOK, _PSEUDONYMISER = "book", "pseudonymiser"


class Refused(Exception):
    """The snapshot cannot be used; the text says why (never a value from the state)."""


def _domain_fingerprint() -> str:
    """The sources of the analysis domain and of the matcher's rules it resolves people by:
    any change to them refuses older snapshots (the state's shape or meaning may differ)."""
    digest = hashlib.sha256()
    analyst = Path(analyst_domain.__file__ or "").parent
    matcher = analyst.parents[1] / "matcher" / "domain"  # the one domain it shares (layout)
    for folder in (analyst, matcher):
        for source in sorted(folder.rglob("*.py")):
            name = source.relative_to(folder.parent).as_posix()
            digest.update(name.encode() + b"\0" + source.read_bytes())
    native = importlib.import_module("relay_vocabulary.relay_vocabulary")  # it spells names
    digest.update(Path(native.__file__ or "").read_bytes())
    return digest.hexdigest()[:32]


DOMAIN = _domain_fingerprint()


def _params_fingerprint(params: Params) -> str:
    return hashlib.sha256(repr(params).encode()).hexdigest()[:32]


def _placeholder(name: str) -> object:
    """Never called: ``_Unpickler.find_class`` answers for it (see ``_pickler``)."""
    raise Refused(f"placeholder {name} outside a snapshot")


@dataclass(frozen=True)
class Snapshot:
    """A state read back: each partition's ``Analyser`` and the next offset it has not seen."""

    offsets: dict[int, int]
    analysers: dict[int, Analyser]
    written_at: dt.datetime
    size: int


class _Signed:
    """Writes through to ``out`` and into the HMAC."""

    def __init__(self, out: IO[bytes], mac: hmac.HMAC) -> None:
        self.out, self.mac, self.size = out, mac, 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        view = memoryview(data)
        self.mac.update(view)
        self.out.write(view)
        self.size += view.nbytes
        return view.nbytes


def _pickler(out: _Signed, book: LeadBook) -> pickle.Pickler:
    """A pickler that writes the book and any pseudonymiser as placeholders. The dispatch
    table is looked up by type in C: no Python call per pickled object."""
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)

    def book_or_copy(obj: LeadBook) -> str | tuple[Any, ...]:
        if obj is book:
            return _placeholder, (_BOOK,)
        return obj.__reduce_ex__(pickle.HIGHEST_PROTOCOL)  # another book: as it is

    pickler.dispatch_table = {  # documented as assignable
        LeadBook: book_or_copy,
        Pseudonymiser: lambda _: (_placeholder, (_PSEUDONYMISER,)),
        _CACHE: _cache_reduced,
    }
    return pickler


_CACHE = type(functools.lru_cache(maxsize=1)(len))


def _cache_reduced(cache: Any) -> str | tuple[Any, ...]:
    """A cache an object keeps of its own method (``lru_cache(n)(self.method)``) goes as the
    method and its size, and comes back empty; a module's cached function, by its name."""
    wrapped = cache.__wrapped__
    if getattr(wrapped, "__self__", None) is None:
        return str(cache.__qualname__)
    return _cached, (wrapped, cache.cache_parameters()["maxsize"])


def _cached(method: Callable[..., Any], maxsize: int | None) -> Any:
    return functools.lru_cache(maxsize=maxsize)(method)


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: IO[bytes], book: LeadBook, key: bytes) -> None:
        super().__init__(data)
        self.book = book
        self.pseudonymiser = Pseudonymiser(key)

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == _placeholder.__name__:
            return self._restore
        return super().find_class(module, name)

    def _restore(self, name: str) -> object:
        if name == _BOOK:
            return self.book
        if name == _PSEUDONYMISER:
            return self.pseudonymiser
        raise Refused("an unknown placeholder")


class SnapshotStore:
    """The snapshot file of one history topic."""

    def __init__(
        self, directory: Path, topic: str, key: bytes, params: Params, interval_s: float = 300.0
    ) -> None:
        self.path = directory / f"{topic}{SUFFIX}"
        self.interval_s = interval_s  # how often ``History`` writes it while following
        self.topic = topic
        self.key = key
        # its own key: the pseudonym key is never used for two purposes
        self._mac_key = hmac.digest(key, b"analyst snapshot tag", hashlib.sha256)
        self.params = _params_fingerprint(params)
        # A state whose offsets did not move changes only by a purge, at most once per
        # ``purge_every``: within it, the file written for those offsets still holds it.
        self.unchanged_for = params.purge_every
        self.last: tuple[dict[int, int], dt.datetime] | None = None  # offsets, written at
        self._writing = threading.Lock()  # a cancelled write's thread may still be running

    def _header(self, offsets: Mapping[int, int], now: dt.datetime) -> dict[str, Any]:
        return {
            "topic": self.topic, "domain": DOMAIN, "params": self.params,
            "offsets": {str(p): o for p, o in offsets.items()}, "written_at": now.isoformat(),
        }  # fmt: skip

    def write(
        self,
        analysers: Mapping[int, Analyser],
        offsets: Mapping[int, int],
        book: LeadBook,
        now: dt.datetime,
    ) -> int:
        """Replace the snapshot atomically; its size in bytes, or 0 if the file already holds
        this state. Blocking: call it in a thread while nothing changes the state."""
        with self._writing:
            if self.last and self.last[0] == offsets and now - self.last[1] < self.unchanged_for:
                return 0
            size = self._write(analysers, offsets, book, now)
            self.last = (dict(offsets), now)
            return size

    def _write(
        self,
        analysers: Mapping[int, Analyser],
        offsets: Mapping[int, int],
        book: LeadBook,
        now: dt.datetime,
    ) -> int:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        header = json.dumps(self._header(offsets, now)).encode()
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        mac = hmac.new(self._mac_key, digestmod=hashlib.sha256)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "wb", buffering=1 << 20) as raw:
                out = _Signed(raw, mac)
                out.write(MAGIC + _PREFIX.pack(FORMAT, len(header)) + header)
                _pickler(out, book).dump(dict(analysers))
                raw.write(mac.digest())
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(temporary, self.path)
        finally:
            temporary.unlink(missing_ok=True)
        _fsync_directory(self.path.parent)
        return out.size + TAG_SIZE

    def read(self, book: LeadBook) -> Snapshot:
        """The snapshot, its analysers joined to ``book``; ``Refused`` saying why not.
        Blocking: call it in a thread."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise Refused("no snapshot") from None
        except OSError as exc:
            raise Refused(f"unreadable: {exc.strerror}") from None
        header, body = self._verified(data)
        try:
            # millions of objects that all stay: the collector would rescan them for nothing
            with gcpolicy.paused():
                analysers = _Unpickler(io.BytesIO(body), book, self.key).load()
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError,
                ValueError, KeyError, IndexError, RecursionError) as exc:  # fmt: skip
            raise Refused(f"state unreadable ({type(exc).__name__})") from None
        if not isinstance(analysers, dict) or not set(analysers) <= set(header["offsets"]):
            raise Refused("state does not match its header")
        return Snapshot(header["offsets"], analysers, header["written_at"], len(data))

    def _verified(self, data: bytes) -> tuple[dict[str, Any], memoryview]:
        """The header and the pickle of a file that is whole, ours and current."""
        fixed = len(MAGIC) + _PREFIX.size
        if len(data) < fixed + TAG_SIZE or not data.startswith(MAGIC):
            raise Refused("not a snapshot")
        version, header_size = _PREFIX.unpack_from(data, len(MAGIC))
        if version != FORMAT:
            raise Refused(f"format {version}, this analyst reads {FORMAT}")
        tag = hmac.digest(self._mac_key, memoryview(data)[:-TAG_SIZE], hashlib.sha256)
        if not hmac.compare_digest(tag, data[-TAG_SIZE:]):
            raise Refused("tag does not match: damaged, truncated or written under another key")
        try:
            header = json.loads(data[fixed : fixed + header_size])
            header["offsets"] = {int(p): int(o) for p, o in header["offsets"].items()}
            header["written_at"] = dt.datetime.fromisoformat(header["written_at"])
        except (ValueError, KeyError, TypeError, AttributeError):
            raise Refused("header unreadable") from None
        if header.get("topic") != self.topic:
            raise Refused("written for another topic")
        if header.get("domain") != DOMAIN:
            raise Refused("written by other analysis code")
        if header.get("params") != self.params:
            raise Refused("written under other thresholds")
        return header, memoryview(data)[fixed + header_size : -TAG_SIZE]


def _fsync_directory(folder: Path) -> None:
    """The rename itself survives a crash once the directory is synced."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
