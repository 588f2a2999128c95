"""The disk-backed document store (LMDB): documents and SLTD entries on disk, people in memory.

``DocStore`` is the store (open, check, read, write a batch with its offsets); ``build_store``
builds one from a whole list; ``open_index`` gives the ``WatchlistIndex`` over a store with its
people restored. The matcher (``watchlist_state``), ``relay screen`` and ``relay watchlist
build-index`` all use these.

Each matcher process keeps a store of its own rather than one per host: LMDB has one writer at
a time, and each process reads ``watchlist.entries`` itself and records its own offsets, so a
shared store would need one process to write for the others and to tell them how far it got.
Own stores cost disk, not memory (the screening reads mapped pages the kernel may drop), and a
replica's crash, rebuild or upgrade touches no other. ``store.writer_lock`` refuses a second
writer on one directory.
"""

from services.common import gcpolicy
from services.matcher.docstore.build import BuildResult, build_from_parts, build_store
from services.matcher.docstore.lines import PartWriter, write_lines
from services.matcher.docstore.store import DocStore, StoreUnusable
from services.matcher.domain.index import WatchlistIndex, person_keys


def open_index(store: DocStore) -> WatchlistIndex:
    """The index over ``store``: its people filed in memory, its documents read from disk.
    People keyed by other name rules than the running code's are keyed again first; a store
    opened read-only cannot be, and is refused (a matcher, which writes, keys it again)."""
    if not store.keyed_by_current_rules():
        if store.env.flags()["readonly"]:
            raise StoreUnusable("the store's people were keyed by other name rules")
        store.rekey(person_keys)
    index = WatchlistIndex(store)
    with gcpolicy.paused():  # a tuple per person, none in a cycle: a third more time otherwise
        index.restore(store.people(), store.decode_person)
    return index


__all__ = [
    "BuildResult",
    "DocStore",
    "PartWriter",
    "StoreUnusable",
    "build_from_parts",
    "build_store",
    "open_index",
    "write_lines",
]
