"""``relay status``: brokers, topics, consumer groups and their lag, dead letters, rates.

Exit 1 when something is unhealthy (lag over ``--max-lag``, a dead-letter topic that grew since
the last run, a group without members, a catalogue topic missing). Rates compare with the sample
kept in ``.relay/status/`` by the previous run (the newest one at least a minute old); on a first
run a second sample is taken ``--sample-seconds`` later.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from services.common.settings import CommonSettings
from services.tooling.ops import samples
from services.tooling.ops.cluster import StatusRequest, status
from services.tooling.ops.status import StatusReport, Thresholds

console = Console()


def _num(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def render(report: StatusReport, out: Console) -> None:
    brokers = ", ".join(f"{b.node_id}@{b.host}:{b.port}" for b in report.brokers)
    out.print(f"brokers: {brokers} (controller {report.controller_id})")
    window = _num(report.rate_window_s, 0)
    topics = Table("topic", "partitions", "messages", "bytes", "retention.ms", f"msg/s ({window}s)")
    for t in report.topics:
        size = "n/a" if t.bytes is None else str(t.bytes)
        topics.add_row(t.topic, str(t.partitions), str(t.messages), size,
                       t.retention_ms or "", _num(t.rate_per_s, 2))  # fmt: skip
    out.print(topics)
    groups = Table("group", "state", "members", "lag", "lag by partition")
    for g in report.groups:
        parts = ", ".join(f"{p.topic}[{p.partition}]={p.lag}" for p in g.partitions if p.lag)
        groups.add_row(g.group, g.state, str(g.members), str(g.lag), parts)
    out.print(groups)
    depths = ", ".join(f"{k}={v}" for k, v in report.dead_letters.items()) or "none"
    out.print(f"dead letters: {depths}")
    backlog = "no group reads alerts" if report.alert_backlog is None else report.alert_backlog
    out.print(f"alert backlog: {backlog} ({', '.join(report.alert_groups)})")
    for p in report.problems:
        out.print(f"[red]UNHEALTHY[/red] {p.kind}: {p.subject}: {p.detail}")
    if report.healthy:
        out.print("[green]healthy[/green]")


def register(app: typer.Typer) -> None:
    @app.command("status")
    def status_command(
        *,
        as_json: bool = typer.Option(False, "--json", help="Print JSON"),
        max_lag: int = typer.Option(1000, help="Fail when a group lags more than this"),
        allow_empty_groups: bool = typer.Option(False, help="A group without members is fine"),
        ignore_dlq_growth: bool = typer.Option(False, help="A growing dead-letter topic is fine"),
        rate_window: float = typer.Option(60.0, help="Seconds the rates are computed over"),
        sample_seconds: float = typer.Option(3.0, help="First run: seconds between two samples"),
        group: str | None = typer.Option(None, help="Only this consumer group"),
        alert_group: str | None = typer.Option(None, help="The notifier's group on alerts"),
        state_file: Path | None = typer.Option(None, help="Where samples are kept"),
    ) -> None:
        """The pipeline at a glance; exit 1 when something is unhealthy."""
        settings = CommonSettings()
        thresholds = Thresholds(
            max_lag=max_lag,
            rate_window_s=rate_window,
            fail_on_empty_group=not allow_empty_groups,
            fail_on_dlq_growth=not ignore_dlq_growth,
        )
        request = StatusRequest(
            thresholds=thresholds,
            state_file=state_file or samples.default_path(settings),
            sample_seconds=sample_seconds,
            group=group,
            alert_group=alert_group,
        )
        report = asyncio.run(status(settings, request))
        if as_json:
            typer.echo(json.dumps({**report.model_dump(), "healthy": report.healthy}, indent=2))
        else:
            render(report, console)
        if not report.healthy:
            raise typer.Exit(1)
