"""Replica counts, disruption budgets and autoscaling agree across compose, k8s and `relay run`."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from schemas.topics import load_catalogue
from services.cli.replicas import FRONTED, SCALED, front_command, plan
from services.common.settings import REPO_ROOT
from services.matcher.settings import MatcherSettings
from services.notifier.settings import NotifierSettings

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]
K8S = REPO_ROOT / "deploy" / "k8s"
NOTIFIER_GROUP = NotifierSettings.model_fields["notifier_group_id"].default
TAKEOVER_S = 15  # issue 26: a dead replica's partitions are served again within this


def _docs(service: str) -> dict[str, dict[str, Any]]:
    found = yaml.safe_load_all((K8S / f"{service}.yaml").read_text())
    return {d["kind"]: d for d in found if d}


def _compose_of(module: str) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in COMPOSE.items() if s.get("command", [])[-1:] == [module]}


@pytest.mark.parametrize(
    ("module", "group"),
    [
        ("services.matcher", ("RELAY_MATCHER_GROUP_ID", MatcherSettings().matcher_group_id)),
        ("services.notifier", ("RELAY_NOTIFIER_GROUP_ID", NOTIFIER_GROUP)),
    ],
)
def test_compose_runs_two_replicas_in_one_group(module: str, group: tuple[str, str]) -> None:
    found = _compose_of(module)
    assert len(found) == 2
    variable, name = group
    assert {r["environment"][variable] for r in found.values()} == {name}
    client_ids = {r["environment"].get("RELAY_KAFKA_CLIENT_ID") for r in found.values()}
    assert len(client_ids) == 2  # the group's members can be told apart
    host_ports = [p.split(":")[1] for r in found.values() for p in r["ports"]]
    assert len(set(host_ports)) == len(host_ports)


def test_compose_publishes_one_ingest() -> None:
    assert len(_compose_of("services.ingest")) == 1  # one published address


@pytest.mark.parametrize("service", ["ingest", "matcher", "notifier"])
def test_each_service_has_a_pdb_that_lets_a_node_drain(service: str) -> None:
    docs = _docs(service)
    deployment, pdb = docs["Deployment"], docs["PodDisruptionBudget"]
    assert pdb["spec"]["selector"] == deployment["spec"]["selector"]
    replicas = deployment["spec"]["replicas"]
    if "minAvailable" in pdb["spec"]:
        assert pdb["spec"]["minAvailable"] < replicas  # one pod may always be evicted
    else:
        assert pdb["spec"]["maxUnavailable"] >= 1


@pytest.mark.parametrize("service", ["ingest", "matcher", "notifier"])
def test_scaled_services_keep_their_replicas_through_a_rollout(service: str) -> None:
    strategy = _docs(service)["Deployment"]["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0


def test_ingest_autoscales_on_cpu_from_its_deployment_count() -> None:
    docs = _docs("ingest")
    hpa = docs["HorizontalPodAutoscaler"]
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == (
        "Deployment",
        docs["Deployment"]["metadata"]["name"],
    )
    assert hpa["spec"]["minReplicas"] == docs["Deployment"]["spec"]["replicas"]
    assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    [metric] = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    container = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert "cpu" in container["resources"]["requests"]  # utilisation is a share of the request


def test_matcher_scaling_starts_at_its_deployment_count_and_stops_at_the_partitions() -> None:
    docs = _docs("matcher")
    scaled = docs["ScaledObject"]["spec"]
    assert scaled["minReplicaCount"] == docs["Deployment"]["spec"]["replicas"]
    partitions = min(
        load_catalogue().get(t).partitions for t in MatcherSettings().matcher_event_topics
    )
    assert scaled["maxReplicaCount"] <= partitions  # more would hold no partition


def test_notifier_scaling_follows_the_lag_on_alerts_and_stops_at_its_partitions() -> None:
    docs = _docs("notifier")
    assert docs["Deployment"]["spec"]["replicas"] == 2  # a lost replica costs a takeover only
    scaled = docs["ScaledObject"]["spec"]
    assert scaled["scaleTargetRef"]["name"] == docs["Deployment"]["metadata"]["name"]
    assert scaled["minReplicaCount"] == docs["Deployment"]["spec"]["replicas"]
    assert scaled["maxReplicaCount"] <= load_catalogue().get("alerts").partitions
    [trigger] = scaled["triggers"]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == NOTIFIER_GROUP
    assert trigger["metadata"]["topic"] == "alerts"
    auth = docs["TriggerAuthentication"]
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    refs = {r["parameter"]: r for r in auth["spec"]["secretTargetRef"]}
    assert refs["password"] == {"parameter": "password", "name": "notifier", "key": "password"}
    username = docs["Secret"]["stringData"][refs["username"]["key"]]
    assert (refs["username"]["name"], username) == (docs["Secret"]["metadata"]["name"], "notifier")


def test_the_matcher_defaults_bound_takeover_well_within_the_target() -> None:
    timing = MatcherSettings().group_timing()
    # Dropped after the session timeout; the others rejoin at their next heartbeat.
    worst_s = (timing["session_timeout_ms"] + timing["heartbeat_interval_ms"]) / 1000
    assert worst_s <= TAKEOVER_S / 2
    assert (
        MatcherSettings().group_timing(retro=True)["max_poll_interval_ms"]
        > (timing["max_poll_interval_ms"])
    )


def test_the_notifier_defaults_bound_takeover_well_within_the_target() -> None:
    fields = NotifierSettings.model_fields
    # Dropped after the session timeout; the others rejoin at their next heartbeat, then read
    # what is left of the taken partitions' deliveries (bench-failover measures the whole).
    session_ms = fields["notifier_session_timeout_ms"].default
    worst_s = (session_ms + fields["notifier_heartbeat_interval_ms"].default) / 1000
    assert worst_s <= TAKEOVER_S / 2


def test_relay_run_plans_replicas_with_their_own_ports_and_client_ids() -> None:
    matchers = plan("matcher", 3, 9101)
    assert [m.name for m in matchers] == ["matcher-1", "matcher-2", "matcher-3"]
    assert matchers[0].port == 9101  # the address the README and Prometheus name
    assert len({m.port for m in matchers}) == 3
    assert len({m.env["RELAY_KAFKA_CLIENT_ID"] for m in matchers}) == 3
    assert all(m.env["RELAY_MATCHER_HTTP_PORT"] == str(m.port) for m in matchers)
    assert set(FRONTED) == {"ingest", "notifier"}
    for service, port in (("ingest", 8080), ("notifier", 8081)):
        found = plan(service, 2, port)
        assert port not in {r.port for r in found}  # the front keeps it
        assert [r.env[f"RELAY_{service.upper()}_HTTP_PORT"] for r in found] == [
            str(r.port) for r in found
        ]
        assert [r.env["RELAY_KAFKA_CLIENT_ID"] for r in found] == [f"{service}-1", f"{service}-2"]
        command = front_command("python", port, found)
        assert command[command.index("--listen") + 1] == f"127.0.0.1:{port}"
        assert command[command.index("--to") + 1].split(",") == [
            f"127.0.0.1:{r.port}" for r in found
        ]
    assert "analyst" not in SCALED  # one ordered history
    assert [(r.name, r.port, r.env) for r in plan("analyst", 3, 9102)] == [("analyst", 9102, {})]
    assert [(r.name, r.env) for r in plan("matcher", 1, 9101)] == [("matcher", {})]
