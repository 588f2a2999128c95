"""``child``: one labelled child per label set, the same series ``labels()`` gives."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from services.common.metrics import child


def test_child_is_looked_up_once_and_counts_into_the_labelled_series() -> None:
    registry = CollectorRegistry()
    counter = Counter("relay_test_child", "test", ["outcome"], registry=registry)
    first = child(counter, "accepted")
    assert child(counter, "accepted") is first
    assert child(counter, "rejected") is not first
    first.inc(2)
    assert registry.get_sample_value("relay_test_child_total", {"outcome": "accepted"}) == 2
