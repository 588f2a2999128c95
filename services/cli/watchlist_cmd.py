"""``relay watchlist load|cancel``: publish watchlist feeds to ``watchlist.entries``.

A load validates the whole file first. Any bad record and nothing is published (exit 1) unless
``--skip-invalid``, which publishes the valid ones and lists what it skipped. ``--dry-run``
validates only. ``cancel`` reads the entry's current value and republishes it with status
``cancelled`` (the matcher stops matching it, and the record says who withdrew what);
``--tombstone`` deletes the key outright instead.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from aiokafka.errors import KafkaError

from schemas.common import to_alpha3
from schemas.watchlist import Action, EntryStatus, ListKind, WatchlistEntry
from services.common.logging import configure_logging
from services.common.settings import CommonSettings
from services.watchlist.load import Format, LoadPlan, as_cancelled, parse, plan
from services.watchlist.parsed import LoadOptions, ParsedRecord
from services.watchlist.publish import (
    PublishResult,
    current_entries,
    publish_entries,
    publish_tombstones,
)

app = typer.Typer(help="Load and cancel watchlist entries.", no_args_is_help=True)


def _options(list_kind: ListKind | None, issuer: str | None, action: Action | None) -> LoadOptions:
    try:
        alpha3 = to_alpha3(issuer) if issuer else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--issuer") from exc
    return LoadOptions(list_kind=list_kind, issuer=alpha3, action=action)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")  # -sig: spreadsheets write a BOM
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"cannot read {path}: {exc}", err=True)
        raise typer.Exit(2) from exc


def _describe(record: ParsedRecord) -> list[str]:
    return [f"{record.where}: {e['field']}: {e['message']} [{e['rule']}]" for e in record.errors]


def _print_plan(result: LoadPlan, as_json: bool) -> None:
    if as_json:
        return
    typer.echo(
        f"{result.records} record(s): {len(result.entries)} valid, {len(result.bad)} bad, "
        f"{len(result.ignored)} ignored"
    )
    for record in result.bad:
        for line in _describe(record):
            typer.echo(f"  bad  {line}")
    for reason, count in Counter(r.ignored for r in result.ignored).items():
        typer.echo(f"  ignored x{count}: {reason}")
    for warning, count in result.warnings.items():
        typer.echo(f"  warning x{count}: {warning}")
    if result.duplicate_ids:
        typer.echo(f"  {result.duplicate_ids} entry id(s) repeat: the last occurrence wins")


def _summary(result: LoadPlan, published: PublishResult | None, seconds: float) -> dict[str, Any]:
    return {
        "records": result.records,
        "valid": len(result.entries),
        "bad": [{"line": r.line, "where": r.where, "errors": r.errors} for r in result.bad],
        "ignored": len(result.ignored),
        "warnings": dict(result.warnings),
        "duplicate_ids": result.duplicate_ids,
        "published": published.model_dump() if published else None,
        "publish_seconds": round(seconds, 3),
    }


def _publish(settings: CommonSettings, entries: list[WatchlistEntry]) -> PublishResult:
    try:
        return asyncio.run(publish_entries(settings, entries))
    except KafkaError as exc:
        typer.echo(f"Kafka unreachable ({type(exc).__name__}): nothing published", err=True)
        raise typer.Exit(1) from exc


@app.command()
def load(  # typer options are keyword arguments by nature
    *,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The feed file"),
    fmt: Format = typer.Option(..., "--format", "-f", help="jsonl, interpol, ftm or sltd-csv"),
    list_kind: ListKind | None = typer.Option(
        None, "--list", help="ftm: the list (default diffusion); interpol: red/yellow fallback"
    ),
    issuer: str | None = typer.Option(None, help="Issuing country (required for ftm)"),
    action: Action | None = typer.Option(None, help="Override the list's default action"),
    skip_invalid: bool = typer.Option(False, help="Publish the valid records, list the rest"),
    dry_run: bool = typer.Option(False, help="Validate only; publish nothing"),
    as_cancelled_: bool = typer.Option(
        False, "--as-cancelled", help="Publish the file's entries with status cancelled"
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON summary on standard output"),
) -> None:
    """Validate FILE whole, then publish its entries (key = entry_id)."""
    if fmt is Format.FTM and not issuer:
        raise typer.BadParameter("FollowTheMoney data names no issuer", param_hint="--issuer")
    options = _options(list_kind, issuer, action)
    settings = CommonSettings()
    configure_logging(settings)
    result = plan(parse(fmt, _read(file), options))
    _print_plan(result, as_json)
    if result.bad and not skip_invalid:
        _finish(result, None, 0.0, as_json)
        typer.echo(
            f"nothing published: {len(result.bad)} bad record(s); fix them or pass --skip-invalid",
            err=True,
        )
        raise typer.Exit(1)
    if dry_run:
        _finish(result, None, 0.0, as_json)
        typer.echo(f"dry run: {len(result.entries)} entries would be published", err=True)
        return
    entries = as_cancelled(result.entries) if as_cancelled_ else result.entries
    started = time.perf_counter()
    published = _publish(settings, entries)
    seconds = time.perf_counter() - started
    _finish(result, published, seconds, as_json)
    if published.failed:
        typer.echo(
            f"{published.failed} of {published.attempted} send(s) failed "
            f"{published.failures}; {published.stored} stored",
            err=True,
        )
        raise typer.Exit(1)


def _finish(
    result: LoadPlan, published: PublishResult | None, seconds: float, as_json: bool
) -> None:
    if as_json:
        typer.echo(json.dumps(_summary(result, published, seconds), ensure_ascii=False))
        return
    if published is None:
        return
    rate = published.stored / seconds if seconds else 0.0
    typer.echo(
        f"published {published.stored}/{published.attempted} to {published.topic} "
        f"in {seconds:.2f} s ({rate:,.0f} entries/s)"
    )
    if result.bad:
        typer.echo(f"skipped {len(result.bad)} invalid record(s), listed above")


@app.command()
def cancel(
    entry_ids: list[str] = typer.Argument(..., help="Entry ids to withdraw"),
    tombstone: bool = typer.Option(
        False, help="Delete the key (null value) instead of publishing status cancelled"
    ),
    timeout: float = typer.Option(60.0, help="Seconds to read the current entries"),
) -> None:
    """Withdraw entries: republish each as cancelled, or tombstone it."""
    settings = CommonSettings()
    configure_logging(settings)
    try:
        if tombstone:
            result = asyncio.run(publish_tombstones(settings, entry_ids))
        else:
            result = _cancel(settings, entry_ids, timeout)
    except (KafkaError, LookupError, TimeoutError) as exc:
        typer.echo(f"cancel failed ({type(exc).__name__}: {exc}): nothing published", err=True)
        raise typer.Exit(1) from exc
    kind = "tombstone(s)" if tombstone else "cancelled entr(ies)"
    typer.echo(f"published {result.stored}/{result.attempted} {kind} to {result.topic}")
    if result.failed:
        typer.echo(f"{result.failed} send(s) failed {result.failures}", err=True)
        raise typer.Exit(1)


def _cancel(settings: CommonSettings, entry_ids: list[str], timeout: float) -> PublishResult:
    current = asyncio.run(current_entries(settings, entry_ids, timeout))
    to_publish: list[WatchlistEntry] = []
    missing = []
    for entry_id in entry_ids:
        entry = current.get(entry_id)
        if entry is None:
            missing.append(entry_id)
        elif entry.status is EntryStatus.CANCELLED:
            typer.echo(f"{entry_id}: already cancelled")
        else:
            to_publish.append(entry)
    if missing:
        typer.echo(
            f"not on the topic (never loaded, or deleted): {', '.join(missing)}; nothing published",
            err=True,
        )
        raise typer.Exit(1)
    return asyncio.run(publish_entries(settings, as_cancelled(to_publish)))
