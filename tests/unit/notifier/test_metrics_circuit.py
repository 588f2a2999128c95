"""The breaker's state is exported per endpoint, without credentials or query strings."""

from __future__ import annotations

from prometheus_client import REGISTRY

from services.notifier import metrics


def test_circuit_state_label_drops_secrets() -> None:
    metrics.circuit("webhook:https://user:pw@hooks.example.org:8443/h/KAZ?token=s3cret", "open")
    value = REGISTRY.get_sample_value(
        "relay_circuit_state", {"endpoint": "webhook:https://hooks.example.org:8443/h/KAZ"}
    )
    assert value == 2.0
    metrics.circuit("webhook:https://user:pw@hooks.example.org:8443/h/KAZ?token=s3cret", "closed")
    assert (
        REGISTRY.get_sample_value(
            "relay_circuit_state", {"endpoint": "webhook:https://hooks.example.org:8443/h/KAZ"}
        )
        == 0.0
    )
