"""``relay dlq list|show|replay TOPIC``: what landed in a dead-letter topic, and sending it back.

TOPIC is the catalogue name of the dead-letter topic (``events.dlq``); the prefix is added.
"""

from __future__ import annotations

import asyncio
import json

import typer
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from schemas.notification import AuditAction
from schemas.topics import topic_name
from services.common.audit import audit_record, operator, store_audit
from services.common.settings import CommonSettings
from services.tooling.ops.dlq import OffsetFilter, ReplayResult, parse
from services.tooling.ops.dlq_ops import (
    ReplayRequest,
    read_dead_letters,
    show_dead_letter,
)
from services.tooling.ops.dlq_ops import (
    replay as replay_records,
)
from services.tooling.ops.tail import record_view

app = typer.Typer(help="Inspect and replay dead-letter topics.", no_args_is_help=True)
console = Console()

PARTITION = typer.Option(None, help="Only this partition")
FROM = typer.Option(None, "--from-offset", help="First offset (inclusive)")
TO = typer.Option(None, "--to-offset", help="Last offset (inclusive)")
JSON = typer.Option(False, "--json", help="Print JSON")


def _filter(partition: int | None, start: int | None, stop: int | None) -> OffsetFilter:
    return OffsetFilter(partition=partition, from_offset=start, to_offset=stop)


@app.command("list")
def list_command(
    topic: str = typer.Argument(..., help="Dead-letter topic, e.g. events.dlq"),
    *,
    partition: int | None = PARTITION,
    from_offset: int | None = FROM,
    to_offset: int | None = TO,
    limit: int | None = typer.Option(None, min=1, help="At most this many records"),
    as_json: bool = JSON,
) -> None:
    """One line per dead letter: where it is, why, and where it came from."""
    flt = _filter(partition, from_offset, to_offset)
    records = asyncio.run(read_dead_letters(CommonSettings(), topic_name(topic), flt, limit))
    letters = [parse(r) for r in records]
    if as_json:
        typer.echo(json.dumps([d.model_dump() for d in letters], indent=2))
        return
    table = Table("partition", "offset", "reason", "field", "service", "from", "replays")
    for d in letters:
        origin = f"{d.original_topic}[{d.original_partition}]@{d.original_offset}"
        table.add_row(str(d.partition), str(d.offset), d.reason or "", d.field or "",
                      d.service or "", origin, str(d.replay_count))  # fmt: skip
    console.print(table)


@app.command("show")
def show_command(
    topic: str = typer.Argument(..., help="Dead-letter topic, e.g. events.dlq"),
    offset: int = typer.Argument(..., help="Offset of the record"),
    partition: int = typer.Option(0, help="Partition of the record"),
    show_pii: bool = typer.Option(False, help="Show names, dates of birth, documents"),
) -> None:
    """One dead letter in full; its value redacted unless --show-pii."""
    record = asyncio.run(show_dead_letter(CommonSettings(), topic_name(topic), partition, offset))
    if record is None:
        typer.echo(f"no record at {topic}[{partition}]@{offset}", err=True)
        raise typer.Exit(1)
    view = {**record_view(record, show_pii=show_pii), "dead_letter": parse(record).model_dump()}
    console.print(Syntax(json.dumps(view, indent=2, ensure_ascii=False), "json", word_wrap=True))


def _report(result: ReplayResult) -> None:
    verb = "would replay" if result.dry_run else "replayed"
    for item in result.items:
        d = item.dead_letter
        where = f"{d.topic}[{d.partition}]@{d.offset}"
        if item.skipped:
            console.print(f"skip {where}: {item.skipped}")
        else:
            console.print(f"{verb} {where} -> {item.target}")
    console.print(f"{verb} {result.replayed} of {len(result.items)} (group {result.group})")


@app.command("replay")
def replay_command(
    topic: str = typer.Argument(..., help="Dead-letter topic, e.g. events.dlq"),
    *,
    partition: int | None = PARTITION,
    from_offset: int | None = FROM,
    to_offset: int | None = TO,
    dry_run: bool = typer.Option(False, help="Print what would be replayed, send nothing"),
    again: bool = typer.Option(False, help="Replay records this group replayed before"),
    group: str | None = typer.Option(None, help="Replay consumer group"),
    as_json: bool = JSON,
) -> None:
    """Send dead letters back to their original topics, with replay headers."""
    request = ReplayRequest(
        topic=topic_name(topic),
        filter=_filter(partition, from_offset, to_offset),
        dry_run=dry_run,
        again=again,
        group=group,
    )
    settings = CommonSettings()
    result = asyncio.run(replay_records(settings, request))
    if not result.dry_run and result.replayed:
        actor, where = operator(settings)
        replayed = audit_record(
            AuditAction.DLQ_REPLAYED, actor, topic=result.dlq_topic, group=result.group,
            replayed=result.replayed, offsets={str(p): o for p, o in result.committed.items()},
            targets=sorted({i.target for i in result.items if i.target and not i.skipped}),
            **where,
        )  # fmt: skip
        asyncio.run(store_audit(settings, replayed))
    if as_json:
        typer.echo(json.dumps({**result.model_dump(), "replayed": result.replayed}, indent=2))
    else:
        _report(result)
