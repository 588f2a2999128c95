"""The service processes' collector policy (services/common/gcpolicy.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from services.common import gcpolicy


@pytest.fixture(autouse=True)
def restore_collector() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_notifier_policy_freezes_and_stops_automatic_full_collections() -> None:
    before = gc.get_threshold()
    gcpolicy.settle_heap(no_automatic_full=True)
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (*before[:2], gcpolicy.NEVER)


def test_ingest_policy_freezes_and_raises_the_young_threshold() -> None:
    before = gc.get_threshold()
    gcpolicy.settle_heap(young_threshold=50_000)
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (50_000, *before[1:])


def test_service_policy_is_both() -> None:
    gcpolicy.settle_service_heap()
    young, _, old = gc.get_threshold()
    assert (young, old) == (gcpolicy.SERVICE_YOUNG_THRESHOLD, gcpolicy.NEVER)


def test_stateful_policy_keeps_young_collections_small_and_frequent() -> None:
    gcpolicy.settle_service_heap(stateful_young_threshold=7_000)
    assert gc.get_threshold() == (
        7_000,
        gcpolicy.STATEFUL_MIDDLE_THRESHOLD,
        gcpolicy.NEVER,
    )
