"""``relay run``: the whole relay on this machine, for ``make run``. Ctrl-C stops everything.

Order: broker -> topics -> demo files (once) -> matcher, ingest, notifier, demo receiver ->
the matcher's index is ready -> demo watchlist loaded -> simulator at a gentle rate. Every
child runs in its own process group and writes its log under ``.relay/run/``; stopping sends
SIGTERM to each group (SIGKILL after a grace period) so no process is left behind, and the
broker is stopped last (unless ``--keep-broker``). With ``--replicas N`` ingest, the matcher
and the notifier run as N processes each, ingest and the notifier behind a round-robin front
on their usual ports (``services/cli/replicas.py``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx
import typer
from rich.console import Console

from services.cli.replicas import FRONTED, Replica, front_command, plan
from services.cli.topics_cmd import _apply
from services.common.settings import REPO_ROOT
from services.demo.accounts import ensure_accounts, sign_in_hint
from services.demo.directory import service_secrets
from services.tooling.kafka_local import BrokerError, LocalBroker, LocalBrokerSettings

console = Console(stderr=True)
RUN_DIR = REPO_ROOT / ".relay" / "run"
DEMO_DIR = REPO_ROOT / ".relay" / "demo"
RELAY = [sys.executable, "-m", "services.cli.main"]

# name -> command of each long-running service; settings come from the environment.
SERVICES: dict[str, list[str]] = {
    "matcher": [sys.executable, "-m", "services.matcher"],
    "ingest": [sys.executable, "-m", "services.ingest"],
    "notifier": [sys.executable, "-m", "services.notifier"],
    "analyst": [sys.executable, "-m", "services.analyst"],
}


@dataclass
class Supervisor:
    env: dict[str, str]
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        with (RUN_DIR / f"{name}.log").open("ab") as log:
            self.children[name] = subprocess.Popen(
                command, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip

    def run_once(self, name: str, command: list[str], timeout_s: float = 300) -> None:
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        with (RUN_DIR / f"{name}.log").open("ab") as log:
            subprocess.run(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, check=True,
                timeout=timeout_s,
            )  # fmt: skip

    def dead(self) -> list[tuple[str, int]]:
        return [(n, p.returncode) for n, p in self.children.items() if p.poll() is not None]

    def stop_all(self, timeout_s: float = 20) -> None:
        for process in self.children.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for name, process in self.children.items():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                console.print(f"{name} did not stop in time; killing it")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_http(url: str, supervisor: Supervisor, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if supervisor.dead():
            raise RuntimeError(f"a service exited: {supervisor.dead()} (logs in {RUN_DIR})")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} not ready after {timeout_s:.0f}s (logs in {RUN_DIR})")


def _ports() -> dict[str, int]:
    return {"ingest": 8080, "notifier": 8081, "matcher": 9101, "analyst": 9102, "receiver": 8099}


def _environment(bootstrap: str) -> dict[str, str]:
    ports = _ports()
    return {
        # Generated once, kept in the demo directory (mode 0600); the operator's own win.
        **service_secrets(DEMO_DIR),
        **os.environ,
        "RELAY_KAFKA_BOOTSTRAP": bootstrap,
        "RELAY_INGEST_AGENCIES_FILE": str(DEMO_DIR / "agencies.yaml"),
        "RELAY_NOTIFIER_DIRECTORY_PATH": str(DEMO_DIR / "contact-points.yaml"),
        "RELAY_INGEST_HTTP_PORT": str(ports["ingest"]),
        "RELAY_NOTIFIER_HTTP_PORT": str(ports["notifier"]),
        "RELAY_MATCHER_HTTP_PORT": str(ports["matcher"]),
        "RELAY_ANALYST_HTTP_PORT": str(ports["analyst"]),
        "RELAY_ANALYST_STATE_DIR": str(REPO_ROOT / ".relay" / "analyst"),
        "RELAY_LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    }


def _start_services(supervisor: Supervisor, replicas: int) -> list[Replica]:
    """Every service; the scaled ones as ``replicas`` processes (fronted ones behind one port)."""
    ports = _ports()
    started: list[Replica] = []
    for name, command in SERVICES.items():
        processes = plan(name, replicas, ports[name])
        for replica in processes:
            supervisor.start(replica.name, command, replica.env)
        if name in FRONTED and len(processes) > 1:
            supervisor.start(f"{name}-front", front_command(sys.executable, ports[name], processes))
        started += processes
    return started


def _wait_ready(supervisor: Supervisor, started: list[Replica], *services: str) -> None:
    for replica in (r for r in started if r.service in services):
        wait_http(f"http://127.0.0.1:{replica.port}/readyz", supervisor)


def _start_system(supervisor: Supervisor, rate: float, replicas: int) -> list[Replica]:
    ports = _ports()
    if not (DEMO_DIR / "api-keys.json").exists():
        console.print("writing demo watchlist, contact points and agency keys (once)")
        supervisor.run_once("demo-init", [*RELAY, "demo", "init", "--dir", str(DEMO_DIR)])
    # Named console officers (a demo directory from before accounts gets them now).
    accounts = ensure_accounts(DEMO_DIR, DEMO_DIR / "contact-points.yaml")
    supervisor.env["RELAY_NOTIFIER_ACCOUNTS_PATH"] = str(accounts)
    supervisor.start(
        "receiver",
        [*RELAY, "demo", "receiver", "--port", str(ports["receiver"]), "--dir", str(DEMO_DIR)],
    )
    started = _start_services(supervisor, replicas)
    _wait_ready(supervisor, started, "matcher")
    console.print("loading the demo watchlist")
    supervisor.run_once(
        "watchlist-load",
        [*RELAY, "watchlist", "load", str(DEMO_DIR / "demo-watchlist.jsonl"), "--format", "jsonl"],
    )
    _wait_ready(supervisor, started, "ingest", "notifier")
    for name in FRONTED:  # through the front
        wait_http(f"http://127.0.0.1:{ports[name]}/readyz", supervisor)
    supervisor.start(
        "simulator",
        [*RELAY, "simulate", "--rate", str(rate), "--duration", str(7 * 86400),
         "--listed-share", "0.03", "--broken-share", "0.02",
         "--url", f"http://127.0.0.1:{ports['ingest']}",
         "--keys", str(DEMO_DIR / "api-keys.json"),
         "--watchlist", str(DEMO_DIR / "demo-watchlist.jsonl")],
    )  # fmt: skip
    return started


def _where_to_look(demo: bool, started: list[Replica]) -> None:
    ports = _ports()
    console.print("[green]notice-relay is running[/green]; Ctrl-C stops everything\n")
    for replica in (r for r in started if r.name != r.service):
        console.print(f"  {replica.name:<21} http://127.0.0.1:{replica.port}/readyz, /metrics")
    console.print(f"  ingest API (OpenAPI)  http://127.0.0.1:{ports['ingest']}/docs")
    console.print(f"  duty-officer console  http://127.0.0.1:{ports['notifier']}/console")
    console.print(f"  demo receiver         http://127.0.0.1:{ports['receiver']}/received")
    console.print(f"  matcher readiness     http://127.0.0.1:{ports['matcher']}/readyz")
    console.print(f"  analyst readiness     http://127.0.0.1:{ports['analyst']}/readyz")
    console.print(f"  metrics               :{ports['ingest']}/metrics :{ports['matcher']}/metrics")
    console.print(f"  logs                  {RUN_DIR}/*.log (receiver: {RUN_DIR}/receiver.log)")
    console.print(f"  demo API keys         {DEMO_DIR}/api-keys.json")
    console.print("  operator view         .venv/bin/relay status\n")
    if demo:
        url = f"http://127.0.0.1:{ports['notifier']}/console/"
        for line in sign_in_hint(DEMO_DIR, url):
            console.print(line, markup=False, highlight=False)
        console.print()


REPLICAS_HELP = (
    "Ingest, matcher and notifier processes each: ingest and the notifier stay on one address "
    "(a round-robin front), every matcher screens a share of the event partitions, every "
    "notifier sends for a share of the alert partitions. The analyst stays one process."
)


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        keep_broker: bool = typer.Option(False, help="Leave the broker running on exit"),
        rate: float = typer.Option(20.0, help="Simulated events per second"),
        demo: bool = typer.Option(True, help="Demo data, receiver and simulator"),
        replicas: int = typer.Option(1, min=1, max=6, help=REPLICAS_HELP),
    ) -> None:
        """Start the broker, apply topics and run the whole relay until Ctrl-C."""
        settings = LocalBrokerSettings()
        broker = LocalBroker(settings)
        try:
            broker.start()
        except BrokerError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
        console.print(f"Kafka {broker.version()} ready on {broker.bootstrap}")
        asyncio.run(_apply(settings.model_copy(update={"kafka_bootstrap": broker.bootstrap}), None))
        console.print("topics applied")
        supervisor = Supervisor(_environment(broker.bootstrap))
        # Explicit: a shell that starts us in the background makes us inherit SIGINT ignored.
        signal.signal(signal.SIGTERM, _raise_interrupt)
        signal.signal(signal.SIGINT, _raise_interrupt)
        try:
            if demo:
                started = _start_system(supervisor, rate, replicas)
            else:
                started = _start_services(supervisor, replicas)
            _where_to_look(demo, started)
            _watch(supervisor)
        except KeyboardInterrupt:
            console.print("stopping")
        except (RuntimeError, TimeoutError, subprocess.CalledProcessError) as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
        finally:
            supervisor.stop_all()
            if not keep_broker:
                broker.stop()
                console.print("broker stopped")


def _raise_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _watch(supervisor: Supervisor) -> None:
    """Until Ctrl-C; a service that dies is reported once (its log says why)."""
    reported: set[str] = set()
    while True:
        for name, code in supervisor.dead():
            if name not in reported:
                reported.add(name)
                console.print(
                    f"[red]{name} exited with {code}; see {RUN_DIR / (name + '.log')}[/red]"
                )
        time.sleep(0.5)
