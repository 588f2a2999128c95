"""The whole relay as real subprocesses on a real broker, for end-to-end and fault tests.

``open_stack`` writes a demo directory (``relay demo init``), starts the demo receiver,
matcher, ingest and notifier as ``python -m`` processes with JSON logs in ``tmp_path``, and
stops them all afterwards. Contact points' webhooks point at ``receiver_url`` when given (a
gate in front of the demo receiver, see ``tests.peers.gate``), else at the receiver itself.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import yaml

from services.demo.directory import service_secrets
from tests.support.broker import free_port
from tests.support.process import ServiceProcess

RELAY = [sys.executable, "-m", "services.cli.main"]
SERVICES = ("matcher", "ingest", "notifier")
LOG_FILES = {"matcher": "matcher", "ingest": "ingest", "notifier": "notifier", "receiver": "r"}


@dataclass(frozen=True)
class StackSpec:
    """What to build: broker and prefix, demo size, extra environment, the webhook target."""

    bootstrap: str
    prefix: str
    persons: int = 300
    sltd: int = 300
    env: dict[str, str] = field(default_factory=dict)
    receiver_url: str | None = None  # None: webhooks go straight to the demo receiver


@dataclass
class Stack:
    env: dict[str, str]
    demo: Path
    logs: Path
    ports: dict[str, int]
    processes: dict[str, ServiceProcess]

    def relay(self, *args: str, timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*RELAY, *args], env=self.env, capture_output=True, text=True, timeout=timeout_s
        )
        assert result.returncode == 0, f"relay {args[0]} failed:\n{result.stderr[-3000:]}"
        return result

    def url(self, name: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    def wait_ready(self, name: str, timeout_s: float = 90) -> None:
        path = "/received" if name == "receiver" else "/readyz"
        self.processes[name].wait_http(self.url(name, path), timeout_s)

    def ready(self) -> None:
        """Every service ready and the demo watchlist loaded (the matcher waits for it)."""
        self.wait_ready("matcher")
        watchlist = str(self.demo / "demo-watchlist.jsonl")
        self.relay("watchlist", "load", watchlist, "--format", "jsonl")
        for name in ("ingest", "notifier", "receiver"):
            self.wait_ready(name)

    def restart(self, name: str) -> None:
        self.processes[name].start()
        self.wait_ready(name)

    def received(self) -> dict[str, object]:
        summary: dict[str, object] = httpx.get(self.url("receiver", "/received"), timeout=5).json()
        return summary

    def dead(self) -> list[str]:
        """Services (of ingest, matcher, notifier) whose process has exited."""
        return [
            name
            for name in SERVICES
            if (process := self.processes[name].process) is None or process.poll() is not None
        ]

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.stop()

    def log_text(self, name: str) -> str:
        return (self.logs / f"{LOG_FILES[name]}.log").read_text(errors="replace")


def _base_env(spec: StackSpec, ports: dict[str, int], workdir: Path) -> dict[str, str]:
    demo = workdir / "demo"
    return {
        "RELAY_KAFKA_BOOTSTRAP": spec.bootstrap,
        "RELAY_TOPIC_PREFIX": spec.prefix,
        "RELAY_INGEST_HTTP_PORT": str(ports["ingest"]),
        "RELAY_NOTIFIER_HTTP_PORT": str(ports["notifier"]),
        "RELAY_MATCHER_HTTP_PORT": str(ports["matcher"]),
        "RELAY_INGEST_AGENCIES_FILE": str(demo / "agencies.yaml"),
        "RELAY_NOTIFIER_DIRECTORY_PATH": str(demo / "contact-points.yaml"),
        "RELAY_NOTIFIER_ACCOUNTS_PATH": str(demo / "console-accounts.yaml"),
        "RELAY_LOG_FORMAT": "json",
        "RELAY_LOG_LEVEL": "info",
        **spec.env,
    }


@contextmanager
def open_stack(spec: StackSpec, tmp_path: Path) -> Iterator[Stack]:
    """Demo files written, all four processes started (not yet ready: call ``ready``)."""
    ports = {name: free_port() for name in ("ingest", "notifier", "matcher", "receiver")}
    demo = tmp_path / "demo"
    env = _base_env(spec, ports, tmp_path)
    processes: dict[str, ServiceProcess] = {}
    built = Stack(env=env, demo=demo, logs=tmp_path, ports=ports, processes=processes)
    built.relay(
        "demo", "init", "--dir", str(demo), "--persons", str(spec.persons),
        "--sltd", str(spec.sltd),
        "--receiver-url", spec.receiver_url or f"http://127.0.0.1:{ports['receiver']}",
    )  # fmt: skip
    env.update({**service_secrets(demo), **spec.env})  # the notifier refuses to start without
    receiver = ("demo", "receiver", "--port", str(ports["receiver"]), "--dir", str(demo))
    processes["receiver"] = ServiceProcess("services.cli.main", env, tmp_path / "r.log", receiver)
    for name in SERVICES:
        processes[name] = ServiceProcess(f"services.{name}", env, tmp_path / f"{name}.log")
    try:
        yield built
    finally:
        built.stop_all()


def start_all(stack: Stack) -> None:
    for process in stack.processes.values():
        process.start()


def edit_directory(demo: Path, change: dict[str, dict[str, object]]) -> None:
    """Merge ``change[contact point id]`` into those contact points of the demo directory."""
    path = demo / "contact-points.yaml"
    raw = yaml.safe_load(path.read_text("utf-8"))
    for point in raw["contact_points"]:
        point.update(change.get(point["id"], {}))
    path.write_text(yaml.safe_dump(raw, sort_keys=False), "utf-8")


def secrets_of_demo(demo: Path) -> set[str]:
    """API keys, webhook secrets and console passwords of the demo: none may ever reach a log."""
    found = set(orjson.loads((demo / "api-keys.json").read_bytes()).values())
    found |= set(orjson.loads((demo / "console-passwords.json").read_bytes()).values())
    raw = yaml.safe_load((demo / "contact-points.yaml").read_text("utf-8"))
    for point in raw["contact_points"]:
        for secret in (point.get("webhook") or {}).get("secrets", []):
            found.update({secret, secret.removeprefix("whsec_")})
    return found


def pii_of_watchlist(demo: Path) -> set[str]:
    """Surnames, given names and document numbers of the demo watchlist's people."""
    values: set[str] = set()
    for line in (demo / "demo-watchlist.jsonl").read_bytes().splitlines():
        entry = orjson.loads(line)
        for name in (entry.get("person") or {}).get("names", []):
            values.update(v for v in (name.get("surname"), name.get("given_names")) if v)
        for doc in (entry.get("person") or {}).get("documents", []):
            values.add(doc["number"])
        if entry.get("document"):
            values.add(entry["document"]["number"])
    return {v for v in values if len(v) >= 5}


def leaks_in_logs(stack: Stack, values: set[str]) -> list[tuple[str, str]]:
    """(service, value) for every value found in a service's log; each log must be non-empty."""
    leaked: list[tuple[str, str]] = []
    for name in LOG_FILES:
        text = stack.log_text(name)
        assert text.strip(), f"{name} wrote no log at all"
        leaked += [(name, value) for value in values if value in text]
    return leaked
