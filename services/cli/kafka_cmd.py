"""``relay kafka fetch|up|down|status``: the local development broker."""

from __future__ import annotations

import json

import typer
from rich.console import Console

from services.tooling.kafka_local import BrokerError, LocalBroker, LocalBrokerSettings

app = typer.Typer(help="Run the local single-node Kafka 4.x broker (KRaft).", no_args_is_help=True)
console = Console(stderr=True)


def _broker() -> LocalBroker:
    return LocalBroker(LocalBrokerSettings())


@app.command()
def fetch() -> None:
    """Download the broker's jars from Maven Central into the cache (once)."""
    broker = _broker()
    try:
        lib = broker.fetch()
    except BrokerError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"Kafka {broker.version()} cached in {lib}")


@app.command()
def up() -> None:
    """Start the broker on 127.0.0.1 and wait until it serves consumer groups."""
    broker = _broker()
    try:
        pid = broker.start()
    except BrokerError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"Kafka {broker.version()} ready on {broker.bootstrap} (pid {pid})")


@app.command()
def down() -> None:
    """Stop the broker cleanly."""
    stopped = _broker().stop()
    console.print("broker stopped" if stopped else "no broker was running")


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Broker version, controller quorum and brokers; exit 1 when it is not up."""
    info = _broker().status()
    healthy = info.running and info.error is None and info.controller_leader_id is not None
    if as_json:
        typer.echo(json.dumps(info.model_dump(), indent=2))
    elif not info.running:
        console.print(f"broker: [red]not running[/red] (data dir {info.data_dir})")
    else:
        console.print(f"broker: [green]running[/green] pid {info.pid} on {info.bootstrap}")
        console.print(f"version: Apache Kafka {info.version}  cluster: {info.cluster_id}")
        quorum = "up" if info.controller_leader_id is not None else "[red]down[/red]"
        console.print(
            f"controller quorum: {quorum}, leader {info.controller_leader_id}, "
            f"voters {info.quorum_voters}, high watermark {info.quorum_high_watermark}"
        )
        console.print(f"brokers: {', '.join(info.brokers)}")
        if info.error:
            console.print(f"[red]{info.error}[/red]")
    raise typer.Exit(0 if healthy else 1)
