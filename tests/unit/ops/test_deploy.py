"""docker-compose.yml, the Dockerfile and deploy/k8s, checked structurally (no engine runs here)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

from schemas.topics import load_catalogue
from services.analyst.settings import AnalystSettings
from services.common.settings import REPO_ROOT, CommonSettings
from services.ingest import metrics as _ingest_series  # noqa: F401 - registers its series
from services.ingest.settings import IngestSettings
from services.matcher.metrics import MatcherMetrics
from services.matcher.settings import MatcherSettings
from services.notifier import metrics as _notifier_series  # noqa: F401 - registers its series
from services.notifier.settings import NotifierSettings
from services.tooling.ops.strimzi import render

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
K8S = REPO_ROOT / "deploy" / "k8s"
SETTINGS: dict[str, type[CommonSettings]] = {
    "analyst": AnalystSettings,
    "ingest": IngestSettings,
    "matcher": MatcherSettings,
    "notifier": NotifierSettings,
    "topics": CommonSettings,
}
PORTS = {"ingest": 8080, "matcher": 9101, "notifier": 8081, "analyst": 9102}


def _env_names(settings: type[CommonSettings]) -> set[str]:
    return {f"RELAY_{name.upper()}" for name in settings.model_fields}


def _k8s(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]


def test_compose_has_every_service_with_healthchecks() -> None:
    services = COMPOSE["services"]
    assert {"kafka", "ingest", "matcher", "notifier", "prometheus"} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert "controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]
    for name in ("kafka", "ingest", "matcher", "notifier", "prometheus"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("ingest", "matcher", "notifier"):
        assert services[name]["depends_on"]["kafka"] == {"condition": "service_healthy"}
        assert f"{PORTS[name]}/readyz" in " ".join(services[name]["healthcheck"]["test"])
    for name in ("ingest", "matcher", "notifier"):
        assert services["prometheus"]["depends_on"][name] == {"condition": "service_healthy"}


def test_compose_ports_are_bound_to_localhost() -> None:
    published = [p for s in COMPOSE["services"].values() for p in s.get("ports", [])]
    assert published
    assert all(p.startswith("127.0.0.1:") for p in published), published
    for name, port in PORTS.items():
        assert f"127.0.0.1:{port}:{port}" in COMPOSE["services"][name]["ports"]


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_compose_environment_names_are_settings_fields(service: str) -> None:
    env = COMPOSE["services"][service]["environment"]
    relay = {k for k in env if k.startswith("RELAY_")}
    assert relay
    assert relay <= _env_names(SETTINGS[service]), relay - _env_names(SETTINGS[service])
    port = env.get(f"RELAY_{service.upper()}_HTTP_PORT")
    assert port is None or int(port) == PORTS[service]


def test_dockerfile_is_multi_stage_and_non_root() -> None:
    text = (REPO_ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) >= 2
    assert "COPY --from=build" in text
    [user] = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert user.split(":")[0] not in ("root", "0")


def test_prometheus_scrapes_the_three_services() -> None:
    config = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = {j["job_name"]: j["static_configs"][0]["targets"] for j in config["scrape_configs"]}
    for name, port in PORTS.items():
        assert targets[name] == [f"{name}:{port}"]


def test_k8s_topics_agree_with_the_catalogue() -> None:
    assert (K8S / "topics.yaml").read_text() == render(load_catalogue()), (
        "regenerate: python -m services.tooling.ops.strimzi topics > deploy/k8s/topics.yaml"
    )
    topics = {d["spec"]["topicName"]: d for d in _k8s("topics.yaml")}
    for spec in load_catalogue().topics:
        resource = topics[spec.name]
        assert resource["kind"] == "KafkaTopic"
        assert resource["spec"]["partitions"] == spec.partitions
        assert re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", resource["metadata"]["name"])
        for key, value in spec.config.items():
            if key != "min.insync.replicas":
                assert resource["spec"]["config"][key] == value


@pytest.mark.parametrize("service", sorted(PORTS))
def test_k8s_deployments_have_probes_resources_and_a_pdb(service: str) -> None:
    docs = {d["kind"]: d for d in _k8s(f"{service}.yaml")}
    deployment = docs["Deployment"]
    labels = deployment["spec"]["selector"]["matchLabels"]
    assert labels.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    [container] = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert container["ports"][0]["containerPort"] == PORTS[service]
    env = {e["name"] for e in container["env"]}
    assert env <= _env_names(SETTINGS[service]), env - _env_names(SETTINGS[service])
    mounted = {v["name"] for v in pod["volumes"]}
    assert {m["name"] for m in container["volumeMounts"]} <= mounted
    pdb = docs["PodDisruptionBudget"]
    assert pdb["spec"]["selector"]["matchLabels"] == labels


def test_k8s_config_and_secrets_are_settings_fields() -> None:
    docs = _k8s("config.yaml")
    common = next(d for d in docs if d["metadata"]["name"] == "relay-common")
    assert set(common["data"]) <= _env_names(CommonSettings)
    keys = next(d for d in docs if d["metadata"]["name"] == "relay-notifier-keys")
    assert set(keys["stringData"]) <= _env_names(NotifierSettings)


def test_matcher_autoscales_on_the_lag_of_its_group() -> None:
    scaled = next(d for d in _k8s("matcher.yaml") if d["kind"] == "ScaledObject")
    assert scaled["spec"]["scaleTargetRef"]["name"] == "relay-matcher"
    partitions = load_catalogue().get("events.border_crossing").partitions
    assert scaled["spec"]["maxReplicaCount"] <= partitions
    for trigger in scaled["spec"]["triggers"]:
        assert trigger["type"] == "kafka"
        assert trigger["metadata"]["consumerGroup"] == MatcherSettings().matcher_group_id
        assert trigger["metadata"]["topic"] in MatcherSettings().matcher_event_topics


def test_every_k8s_file_is_valid_yaml_with_kind_and_name() -> None:
    for path in sorted(Path(K8S).glob("*.yaml")):
        for doc in _k8s(path.name):
            assert doc["apiVersion"]
            assert doc["kind"]
            assert doc["metadata"]["name"]


def test_grafana_dashboard_queries_only_defined_metrics() -> None:
    dashboard = json.loads((REPO_ROOT / "deploy" / "grafana" / "dashboard.json").read_text())
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"], "gauge": [""]}
    # Every service's series: the matcher's registry, and the default one ingest and the
    # notifier declare theirs in (imported above).
    collected = [*MatcherMetrics().registry.collect(), *REGISTRY.collect()]
    exposed = {"up"} | {
        metric.name + suffix for metric in collected for suffix in suffixes.get(metric.type, [])
    }
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"\b(relay_[a-z_]+|up)\b", e)}
    assert len(used) >= 10
    assert used <= exposed, used - exposed


def test_compose_kafka_keeps_its_logs_on_the_data_volume() -> None:
    kafka = COMPOSE["services"]["kafka"]
    [mount] = [v for v in kafka["volumes"] if v.startswith("kafka-data:")]
    assert kafka["environment"]["KAFKA_LOG_DIRS"] == mount.split(":", 1)[1]
