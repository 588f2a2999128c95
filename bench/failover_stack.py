"""The relay as replicas for the failover benchmark: a demo directory and receiver, N matchers,
N ingests behind one round-robin front and N notifiers, each a process of its own with its
own port, Kafka client id and log, all in one temporary directory.

Replica ``n`` of a service is named ``<service>-<n>``, which is also its Kafka client id
(the broker shows it as ``<service>-<n>-consumer``), so a consumer group's description tells
which process holds which partitions.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiokafka import TopicPartition

from bench.e2e_stack import RELAY_CLI, Child, load_watchlist, service_environment
from bench.support import free_port
from services.common.settings import CommonSettings
from services.demo.directory import DemoPaths, init_demo
from services.demo.watchlist_gen import WatchlistSpec
from tests.support.replicas import assignment

READY_TIMEOUT_S = 180.0
SERVICES = ("matcher", "ingest", "notifier")


@dataclass
class Replica:
    name: str
    service: str
    port: int
    child: Child

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def client_id(self) -> str:
        return f"{self.name}-consumer"

    def alive(self) -> bool:
        process = self.child.process
        return process is not None and process.poll() is None


@dataclass
class FailoverStack:
    settings: CommonSettings
    workdir: Path
    replicas: int = 2
    env: dict[str, str] = field(default_factory=dict)  # extra settings for every service
    receiver_port: int = field(default_factory=free_port)
    ingest_port: int = field(default_factory=free_port)  # the front's
    running: dict[str, Replica] = field(default_factory=dict)
    others: dict[str, Child] = field(default_factory=dict)  # receiver, ingest front

    @property
    def demo(self) -> DemoPaths:
        return DemoPaths(self.workdir / "demo")

    @property
    def receiver_url(self) -> str:
        return f"http://127.0.0.1:{self.receiver_port}"

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.ingest_port}"

    def of(self, service: str) -> list[Replica]:
        return [r for r in self.running.values() if r.service == service]

    def environment(self) -> dict[str, str]:
        return {
            **service_environment(self.settings, self.demo),
            "RELAY_NOTIFIER_ACCOUNTS_PATH": str(self.demo.root / "console-accounts.yaml"),
            **self.env,
        }

    def init(self) -> int:
        """The demo directory (watchlist, contact points, keys); returns the entries' count."""
        return init_demo(self.demo.root, self.receiver_url, WatchlistSpec()).watchlist_entries

    def _child(self, name: str, argv: list[str], env: dict[str, str]) -> Child:
        log = self.workdir / f"{name}.log"
        return Child(argv, {**self.environment(), **env}, log, self.workdir).start()

    def start_replica(self, service: str, n: int) -> Replica:
        name, port = f"{service}-{n}", free_port()
        env = {f"RELAY_{service.upper()}_HTTP_PORT": str(port), "RELAY_KAFKA_CLIENT_ID": name}
        if service == "notifier":
            env["RELAY_NOTIFIER_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        replica = Replica(
            name, service, port, self._child(name, ["-m", f"services.{service}"], env)
        )
        self.running[name] = replica
        return replica

    def start_receiver(self) -> None:
        argv = [*RELAY_CLI, "demo", "receiver", "--port", str(self.receiver_port),
                "--dir", str(self.demo.root)]  # fmt: skip
        self.others["receiver"] = self._child("receiver", argv, {})
        self.others["receiver"].wait_http(f"{self.receiver_url}/received", READY_TIMEOUT_S)

    def start_front(self) -> None:
        """A round-robin front on the ingest port before the ingest replicas (relay run's)."""
        upstreams = ",".join(f"127.0.0.1:{r.port}" for r in self.of("ingest"))
        argv = ["-m", "services.cli.replicas", "--listen", f"127.0.0.1:{self.ingest_port}",
                "--to", upstreams]  # fmt: skip
        self.others["ingest-front"] = self._child("ingest-front", argv, {})

    def start(self, services: tuple[str, ...] = SERVICES) -> None:
        for service in services:
            for n in range(1, self.replicas + 1):
                self.start_replica(service, n)
        if "ingest" in services:
            self.start_front()

    def load_watchlist(self) -> None:
        load_watchlist(self.workdir, self.demo.watchlist, self.environment())

    def wait_ready(self, service: str, entries: int = 0) -> None:
        """Every replica of ``service`` ready (matchers: holding ``entries`` entries)."""
        for replica in self.of(service):
            replica.child.wait_http(replica.url("/readyz"), READY_TIMEOUT_S)
            if entries:
                self._wait_entries(replica, entries)

    def _wait_entries(self, replica: Replica, expected: int) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        seen = -1
        while time.monotonic() < deadline:
            try:
                body = httpx.get(replica.url("/readyz"), timeout=2).json()
                seen = int(body.get("watchlist_entries", -1))
            except (httpx.HTTPError, ValueError):
                pass
            if seen >= expected:
                return
            time.sleep(0.2)  # polling a remote process: nothing to await on
        raise TimeoutError(f"{replica.name} holds {seen} of {expected} entries")

    async def shared(
        self, service: str, group: str, timeout_s: float = 90
    ) -> dict[str, set[TopicPartition]]:
        """Until ``group`` is stable with every live replica of ``service`` holding partitions;
        returns replica name -> partitions."""
        deadline = time.monotonic() + timeout_s
        wanted = {r.client_id: r.name for r in self.of(service) if r.alive()}
        seen: dict[str, set[TopicPartition]] = {}
        while time.monotonic() < deadline:
            state, members = await assignment(self.settings, group)
            seen = {wanted.get(c, c): held for c, held in members.items()}
            if state == "Stable" and set(members) == set(wanted) and all(members.values()):
                return seen
            await asyncio.sleep(0.3)  # polling the broker's view of the group
        raise TimeoutError(f"group {group} not shared by {sorted(wanted.values())}: {seen}")

    def kill(self, name: str) -> float:
        """SIGKILL the replica's process group, as a crash would; returns when (epoch s)."""
        at = time.time()
        self.running[name].child.kill()
        return at

    def check_alive(self, *spared: str) -> None:
        for name, replica in self.running.items():
            if name not in spared and not replica.alive():
                raise RuntimeError(f"{name} exited:\n{replica.child.log()}")

    def logs(self, lines: int = 30) -> str:
        children = {**{n: r.child for n, r in self.running.items()}, **self.others}
        return "\n".join(f"--- {n} ---\n{c.log(lines)}" for n, c in children.items())

    def stop(self) -> None:
        for replica in reversed(self.running.values()):
            replica.child.stop(timeout_s=20)
        for child in self.others.values():
            child.stop(timeout_s=10)
