"""deploy/acls.yaml as ACL bindings: names exist in the catalogue, prefixes and wildcards apply."""

from __future__ import annotations

import pytest

from schemas.topics import load_catalogue
from services.tooling.kafka_security import (
    AccessPolicy,
    AclBinding,
    acl_bindings,
    load_access_policy,
)


def test_every_granted_topic_is_in_the_catalogue() -> None:
    """A typo in acls.yaml would silently deny a service; catch it here instead."""
    names = set(load_catalogue().names())
    policy = load_access_policy()
    for user, grants in policy.principals.items():
        for word in ("read", "write", "describe", "create"):
            for name in getattr(grants.topics, word):
                if name == "*":
                    continue
                if name.endswith("*"):
                    assert any(n.startswith(name[:-1]) for n in names), (user, name)
                else:
                    assert name in names, (user, name)


def test_bindings_carry_the_prefix_and_keep_wildcards() -> None:
    bindings = set(acl_bindings(load_access_policy(), prefix="p."))
    assert AclBinding("TOPIC", "LITERAL", "p.alerts", "User:matcher", "WRITE") in bindings
    assert AclBinding("TOPIC", "PREFIXED", "p.notifications.", "User:notifier", "READ") in bindings
    assert AclBinding("GROUP", "PREFIXED", "p.matcher", "User:matcher", "READ") in bindings
    assert AclBinding("TOPIC", "LITERAL", "*", "User:ops", "READ") in bindings
    assert AclBinding("CLUSTER", "LITERAL", "kafka-cluster", "User:ops", "DESCRIBE") in bindings


def test_each_service_is_granted_only_its_own_topics() -> None:
    bindings = acl_bindings(load_access_policy())
    writes = {(b.principal, b.name) for b in bindings if b.operation == "WRITE"}
    assert ("User:ingest", "alerts") not in writes
    assert ("User:matcher", "watchlist.entries") not in writes
    assert ("User:loader", "watchlist.entries") in writes
    assert not any(p == "User:ops" for p, _ in writes)
    assert all(b.pattern_type == "LITERAL" for b in bindings if b.principal == "User:ingest")


def test_a_grant_a_resource_cannot_take_is_rejected() -> None:
    policy = AccessPolicy.model_validate(
        {"principals": {"x": {"groups": {"write": ["some-group"]}}}}
    )
    with pytest.raises(ValueError, match="not allowed on GROUP"):
        acl_bindings(policy)
