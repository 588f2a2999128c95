"""``relay topics apply|list``: the topic catalogue in deploy/topics.yaml."""

from __future__ import annotations

import asyncio
import json

import typer
from rich.console import Console
from rich.table import Table

from schemas.topics import load_catalogue
from services.common.kafka import admin_client
from services.common.settings import CommonSettings
from services.tooling.topics import Change, TopicReport, apply_catalogue

app = typer.Typer(help="Create and check the topics of deploy/topics.yaml.", no_args_is_help=True)
console = Console()


async def _apply(settings: CommonSettings, replication: int | None) -> list[TopicReport]:
    async with admin_client(settings) as admin:
        return await apply_catalogue(
            admin, load_catalogue(replication_factor=replication), settings.topic_prefix
        )


@app.command()
def apply(
    replication_factor: int | None = typer.Option(None, help="Override the catalogue's factor"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Create missing topics and update configs; report drift (exit 2 when there is any)."""
    reports = asyncio.run(_apply(CommonSettings(), replication_factor))
    if as_json:
        typer.echo(json.dumps([r.model_dump() for r in reports], indent=2))
    else:
        table = Table("topic", "result", "details")
        for report in reports:
            table.add_row(
                report.topic, ", ".join(c.value for c in report.changes), "; ".join(report.details)
            )
        console.print(table)
    if any(Change.DRIFT in r.changes for r in reports):
        raise typer.Exit(2)


@app.command("list")
def list_topics() -> None:
    """The catalogue as written (name, partitions, cleanup policy, retention)."""
    table = Table("topic", "partitions", "cleanup", "retention.ms", "description")
    for spec in load_catalogue().topics:
        table.add_row(
            spec.name,
            str(spec.partitions),
            spec.config.get("cleanup.policy", ""),
            spec.config.get("retention.ms", ""),
            spec.description,
        )
    console.print(table)
