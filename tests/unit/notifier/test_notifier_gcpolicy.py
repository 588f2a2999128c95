"""The service's collector policy: start-up heap frozen, no automatic full collection."""

from __future__ import annotations

import gc

from services.notifier import gcpolicy


def test_settle_heap_freezes_and_stops_automatic_full_collections() -> None:
    before = gc.get_threshold()
    try:
        gcpolicy.settle_heap()
        assert gc.get_freeze_count() > 0
        young, middle, old = gc.get_threshold()
        assert (young, middle) == before[:2]
        assert old == gcpolicy.NEVER
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
