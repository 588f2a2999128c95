"""deploy/k8s against Strimzi 1.0: v1 resources, one KafkaUser per principal of deploy/acls.yaml,
each Deployment logging in as its own user, and notifier replicas that keep one serving."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from schemas.topics import load_catalogue
from services.common.settings import REPO_ROOT
from services.tooling.kafka_security import (
    CLUSTER_RESOURCE,
    AccessPolicy,
    acl_bindings,
    load_access_policy,
)
from services.tooling.ops.strimzi import kafka_users, main, render, render_users

K8S = REPO_ROOT / "deploy" / "k8s"
SERVICES = ("ingest", "matcher", "notifier")
V1_OPERATIONS = {
    "Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction", "AlterConfigs",
    "DescribeConfigs", "IdempotentWrite", "All",
}  # fmt: skip
Binding = tuple[str, str, str, str]  # resource type, pattern type, name, operation


def _k8s(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]


def _users() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _k8s("users.yaml") if d["kind"] == "KafkaUser"}


def _kind(name: str, kind: str) -> dict[str, Any]:
    [doc] = [d for d in _k8s(name) if d["kind"] == kind]
    return doc


def _common() -> dict[str, str]:
    [common] = [d for d in _k8s("config.yaml") if d["metadata"]["name"] == "relay-common"]
    data: dict[str, str] = common["data"]
    return data


def _env(service: str) -> dict[str, dict[str, Any]]:
    [container] = _kind(f"{service}.yaml", "Deployment")["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e for e in container["env"]}


def _flatten(user: dict[str, Any]) -> set[Binding]:
    """A KafkaUser's rules back into Kafka's terms (the inverse of the generator, written apart)."""
    patterns = {"literal": "LITERAL", "prefix": "PREFIXED"}
    found: set[Binding] = set()
    for rule in user["spec"]["authorization"]["acls"]:
        resource = rule["resource"]
        kind = resource["type"].upper()
        name = resource.get("name", CLUSTER_RESOURCE if kind == "CLUSTER" else None)
        pattern = patterns[resource.get("patternType", "literal")]
        for operation in rule["operations"]:
            found.add((kind, pattern, name, re.sub(r"(?<!^)([A-Z])", r"_\1", operation).upper()))
    return found


def _granted(policy: AccessPolicy, user: str) -> set[Binding]:
    return {
        (b.resource_type, b.pattern_type, b.name, b.operation)
        for b in acl_bindings(policy)
        if b.principal == f"User:{user}"
    }


def test_k8s_users_agree_with_the_access_policy() -> None:
    assert (K8S / "users.yaml").read_text() == render_users(load_access_policy()), (
        "regenerate: python -m services.tooling.ops.strimzi users > deploy/k8s/users.yaml"
    )


def test_one_kafka_user_per_principal_with_exactly_its_acls() -> None:
    policy = load_access_policy()
    users = {u["metadata"]["name"]: u for u in kafka_users(policy)}
    assert list(users) == list(policy.principals)
    for name, user in users.items():
        assert user["kind"] == "KafkaUser"
        assert _flatten(user) == _granted(policy, name), name
        for rule in user["spec"]["authorization"]["acls"]:
            # v1 dropped the singular `operation`; `operations` is required and enumerated.
            assert set(rule) == {"resource", "operations"}, rule
            assert rule["operations"], rule
            assert set(rule["operations"]) <= V1_OPERATIONS, rule
            assert rule["resource"]["type"] in {"topic", "group", "cluster", "transactionalId"}
            assert rule["resource"].get("patternType", "literal") in {"literal", "prefix"}
        # one rule per resource, so a reviewer sees each topic's rights in one place
        resources = [tuple(r["resource"].values()) for r in user["spec"]["authorization"]["acls"]]
        assert len(resources) == len(set(resources)), name


def test_generation_reads_the_policy_it_is_given() -> None:
    policy = AccessPolicy.model_validate({
        "principals": {
            "auditor": {"topics": {"own": ["audit*"]}, "groups": {"read": ["*"]},
                        "cluster": ["describe"]},
        }
    })  # fmt: skip
    [user] = kafka_users(policy, cluster="c1")
    assert user["metadata"] == {
        "name": "auditor",
        "labels": {"strimzi.io/cluster": "c1", "app.kubernetes.io/part-of": "notice-relay"},
    }
    assert user["spec"]["authorization"]["acls"] == [
        {
            "resource": {"type": "topic", "name": "audit", "patternType": "prefix"},
            "operations": ["Read", "Write", "Create", "Describe", "DescribeConfigs"],
        },
        {"resource": {"type": "group", "name": "*", "patternType": "literal"},
         "operations": ["Read"]},
        {"resource": {"type": "cluster"}, "operations": ["Describe"]},
    ]  # fmt: skip


def test_strimzi_resources_are_v1_and_name_one_cluster() -> None:
    docs = [d for path in sorted(K8S.glob("*.yaml")) for d in _k8s(path.name)]
    strimzi = [d for d in docs if d["apiVersion"].startswith("kafka.strimzi.io/")]
    kinds = {d["kind"] for d in strimzi}
    assert {"KafkaTopic", "KafkaUser"} <= kinds
    assert {d["apiVersion"] for d in strimzi} == {"kafka.strimzi.io/v1"}
    [cluster] = {d["metadata"]["labels"]["strimzi.io/cluster"] for d in strimzi}
    # Strimzi names the bootstrap Service and the CA Secret after the cluster.
    assert _common()["RELAY_KAFKA_BOOTSTRAP"].startswith(f"{cluster}-kafka-bootstrap:")
    for service in SERVICES:
        volumes = _kind(f"{service}.yaml", "Deployment")["spec"]["template"]["spec"]["volumes"]
        kafka_ca = next(v for v in volumes if v["name"] == "kafka-ca")
        assert kafka_ca["secret"]["secretName"] == f"{cluster}-cluster-ca-cert"


def test_kafka_users_authenticate_with_the_services_mechanism() -> None:
    mechanism = _common()["RELAY_KAFKA_SASL_MECHANISM"]
    for user in _users().values():
        assert user["spec"]["authentication"] == {"type": mechanism.lower()}


@pytest.mark.parametrize("service", SERVICES)
def test_each_deployment_logs_in_as_its_own_kafka_user(service: str) -> None:
    env = _env(service)
    username = env["RELAY_KAFKA_SASL_USERNAME"]["value"]
    assert username == service
    assert username in _users()
    # The User Operator writes the password into a Secret named after the KafkaUser.
    ref = env["RELAY_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": username, "key": "password"}
    deployment = _kind(f"{service}.yaml", "Deployment")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    # no shared credentials Secret that would override or stand in for the service's own
    assert all("secretRef" not in source for source in container.get("envFrom", []))


def test_no_shared_kafka_credentials_remain() -> None:
    for path in sorted(K8S.glob("*.yaml")):
        for doc in _k8s(path.name):
            values = {**doc.get("data", {}), **doc.get("stringData", {})}
            assert not {"RELAY_KAFKA_SASL_USERNAME", "RELAY_KAFKA_SASL_PASSWORD"} & set(values), (
                path.name
            )


def test_keda_reads_lag_as_the_matcher_user() -> None:
    auth = _kind("matcher.yaml", "TriggerAuthentication")
    refs = {r["parameter"]: r for r in auth["spec"]["secretTargetRef"]}
    secrets = {d["metadata"]["name"]: d for d in _k8s("config.yaml") if d["kind"] == "Secret"}
    username_ref = refs["username"]
    username = secrets[username_ref["name"]]["stringData"][username_ref["key"]]
    assert username == "matcher"
    assert username in _users()
    assert refs["password"] == {"parameter": "password", "name": username, "key": "password"}


def test_notifier_replicas_keep_one_serving_through_drains_and_rollouts() -> None:
    deployment = _kind("notifier.yaml", "Deployment")
    replicas = deployment["spec"]["replicas"]
    assert replicas >= 2  # the partitions of a lost replica have another owner to go to
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    # ... and a node drain may still evict one of them.
    budget = _kind("notifier.yaml", "PodDisruptionBudget")["spec"]
    assert 1 <= budget["minAvailable"] < replicas


def test_generator_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users"]) == 0
    assert capsys.readouterr().out == render_users(load_access_policy())
    assert main([]) == 0
    assert capsys.readouterr().out == render(load_catalogue())
    assert main(["nothing"]) == 2
