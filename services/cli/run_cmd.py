"""``relay run``: the whole system on this machine: broker, topics, every service, Ctrl-C stops all.

Services run as child processes in their own process groups, so stopping them leaves nothing
behind; the broker is stopped last (unless ``--keep-broker``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import typer
from rich.console import Console

from services.cli.topics_cmd import _apply
from services.common.kafka_local import BrokerError, LocalBroker, LocalBrokerSettings

console = Console(stderr=True)

# name -> command; each service's __main__ starts it with settings from the environment.
SERVICES: dict[str, list[str]] = {}


def _start(name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    console.print(f"starting {name}: {' '.join(command)}")
    return subprocess.Popen(command, env=env, start_new_session=True)


def _stop_all(children: dict[str, subprocess.Popen[bytes]], timeout_s: float = 15) -> None:
    for process in children.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for name, process in children.items():
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            console.print(f"{name} did not stop in time; killing it")
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        keep_broker: bool = typer.Option(False, help="Leave the broker running on exit"),
        extra: list[str] = typer.Option([], "--with", help="Extra relay subcommand to supervise"),
    ) -> None:
        """Start the broker, apply topics, run every service until Ctrl-C."""
        settings = LocalBrokerSettings()
        broker = LocalBroker(settings)
        try:
            broker.start()
        except BrokerError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
        console.print(f"Kafka {broker.version()} ready on {broker.bootstrap}")
        env = {**os.environ, "RELAY_KAFKA_BOOTSTRAP": broker.bootstrap}
        asyncio.run(_apply(settings.model_copy(update={"kafka_bootstrap": broker.bootstrap}), None))
        console.print("topics applied")
        children: dict[str, subprocess.Popen[bytes]] = {}
        commands = dict(SERVICES)
        for index, item in enumerate(extra):
            commands[f"extra-{index}"] = [sys.executable, "-m", "services.cli.main", *item.split()]
        try:
            for name, command in commands.items():
                children[name] = _start(name, command, env)
            console.print("[green]running[/green]; press Ctrl-C to stop everything")
            _wait_for_children(children)
        except KeyboardInterrupt:
            console.print("stopping")
        finally:
            _stop_all(children)
            if not keep_broker:
                broker.stop()
                console.print("broker stopped")


def _wait_for_children(children: dict[str, subprocess.Popen[bytes]]) -> None:
    """Block until Ctrl-C (or SIGTERM); a service that dies is reported, not restarted."""
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    reported: set[str] = set()
    while True:
        for name, process in children.items():
            code = process.poll()
            if code is not None and name not in reported:
                reported.add(name)
                console.print(f"[red]{name} exited with {code}[/red]")
        time.sleep(0.5)
