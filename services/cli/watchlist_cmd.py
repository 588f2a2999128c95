"""``relay watchlist``: publish feeds to ``watchlist.entries``, and build the matcher's store.

A load validates the whole file first. Any bad record and nothing is published (exit 1) unless
``--skip-invalid``, which publishes the valid ones and lists what it skipped. ``--dry-run``
validates only. Large files are validated in parallel in chunks written to scratch files, then
published from those with a progress bar (``services.watchlist.chunks``); no entry is held in
memory. ``build-index`` builds the matcher's document store from the same files, and
``check-index`` compares a store with the topic. ``cancel`` reads the entry's current value
and republishes it with status ``cancelled`` (the matcher stops matching it, and the record
says who withdrew what); ``--tombstone`` deletes the key outright instead.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress

from schemas.common import to_alpha3
from schemas.notification import AuditRecord
from schemas.watchlist import Action, EntryStatus, ListKind, WatchlistEntry
from services.common.audit import store_audit
from services.common.kafka import make_consumer, partitions_of
from services.common.logging import configure_logging
from services.common.settings import CommonSettings
from services.matcher.docstore import DocStore, StoreUnusable, build_from_parts
from services.matcher.docstore.agree import compare
from services.watchlist import audit as watchlist_audit
from services.watchlist.chunks import ParseReport, Sink, chunks_of, parse_all
from services.watchlist.load import Format, as_cancelled
from services.watchlist.parsed import LoadOptions
from services.watchlist.publish import (
    TOPIC,
    PublishResult,
    current_entries,
    publish_entries,
    publish_parts,
    publish_tombstones,
)

app = typer.Typer(help="Load and cancel watchlist entries.", no_args_is_help=True)


def _options(list_kind: ListKind | None, issuer: str | None, action: Action | None) -> LoadOptions:
    try:
        alpha3 = to_alpha3(issuer) if issuer else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--issuer") from exc
    return LoadOptions(list_kind=list_kind, issuer=alpha3, action=action)


def _print_plan(result: ParseReport, as_json: bool) -> None:
    if as_json:
        return
    typer.echo(
        f"{result.records} record(s): {result.valid} valid, {result.bad_count} bad, "
        f"{sum(result.ignored.values())} ignored"
    )
    for where, errors in result.bad:
        for e in errors:
            typer.echo(f"  bad  {where}: {e['field']}: {e['message']} [{e['rule']}]")
    if result.bad_count > len(result.bad):
        typer.echo(f"  ... and {result.bad_count - len(result.bad)} more bad record(s)")
    for reason, count in result.ignored.items():
        typer.echo(f"  ignored x{count}: {reason}")
    for warning, count in result.warnings.items():
        typer.echo(f"  warning x{count}: {warning}")
    if result.duplicate_ids:
        typer.echo(f"  {result.duplicate_ids} entry id(s) repeat: the last occurrence wins")


def _summary(
    result: ParseReport, published: PublishResult | None, seconds: float
) -> dict[str, Any]:
    return {
        "records": result.records,
        "valid": result.valid,
        "bad": [{"where": where, "errors": errors} for where, errors in result.bad],
        "bad_count": result.bad_count,
        "ignored": sum(result.ignored.values()),
        "warnings": dict(result.warnings),
        "duplicate_ids": result.duplicate_ids,
        "published": published.model_dump() if published else None,
        "publish_seconds": round(seconds, 3),
    }


@contextmanager
def _bar(what: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on standard error (a terminal only); yields ``advance(n)``."""
    columns = (*Progress.get_default_columns(), MofNCompleteColumn())
    console = Console(stderr=True)
    with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)


def _parse(
    sources: list[tuple[Format, Path]], options: LoadOptions, folder: Path, sink: Sink,
    publish: tuple[bool, int] = (False, 0),
) -> ParseReport:  # fmt: skip
    """``publish``: (entries to go out cancelled, the topic's partitions)."""
    cancelled, partitions = publish
    try:
        chunks = chunks_of(sources, options, folder, sink)
        chunks = [replace(c, cancelled=cancelled, partitions=partitions) for c in chunks]
        with _bar("validating", sum(c.end - c.start for c in chunks)) as advance:
            return parse_all(chunks, advance)
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"cannot read {', '.join(str(p) for _, p in sources)}: {exc}", err=True)
        raise typer.Exit(2) from exc


def _publish(settings: CommonSettings, report: ParseReport, partitions: int) -> PublishResult:
    try:
        with _bar("publishing", report.valid) as advance:
            return asyncio.run(publish_parts(settings, report.parts, partitions, advance))
    except KafkaError as exc:
        typer.echo(f"Kafka unreachable ({type(exc).__name__}): nothing published", err=True)
        raise typer.Exit(1) from exc


def _audit(settings: CommonSettings, records: list[AuditRecord]) -> None:
    """Every load and cancellation is on the audit trail; a change it misses is an error."""
    try:
        asyncio.run(store_audit(settings, *records))
    except KafkaError as exc:
        typer.echo(f"published, but NOT audited ({type(exc).__name__}): report it", err=True)
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
    partitions = 0 if dry_run else _partitions(settings)
    with tempfile.TemporaryDirectory(prefix="relay-load-") as folder:
        publish = (as_cancelled_, partitions or 1)
        result = _parse([(fmt, file)], options, Path(folder), Sink.PUBLISH, publish)
        _print_plan(result, as_json)
        if result.bad_count and not skip_invalid:
            _finish(result, None, 0.0, as_json)
            typer.echo(
                f"nothing published: {result.bad_count} bad record(s); fix them or pass "
                "--skip-invalid",
                err=True,
            )
            raise typer.Exit(1)
        if dry_run:
            _finish(result, None, 0.0, as_json)
            typer.echo(f"dry run: {result.valid} entries would be published", err=True)
            return
        started = time.perf_counter()
        published = _publish(settings, result, partitions)
        seconds = time.perf_counter() - started
    counts = (result.valid, published.stored)
    _audit(settings, watchlist_audit.counted_load_records(settings, file, fmt.value, counts,
                                                          result.cancelled))  # fmt: skip
    _finish(result, published, seconds, as_json)
    if published.failed:
        typer.echo(
            f"{published.failed} of {published.attempted} send(s) failed "
            f"{published.failures}; {published.stored} stored",
            err=True,
        )
        raise typer.Exit(1)


def _finish(
    result: ParseReport, published: PublishResult | None, seconds: float, as_json: bool
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
    if result.bad_count:
        typer.echo(f"skipped {result.bad_count} invalid record(s), listed above")


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
    _audit(settings, watchlist_audit.cancellation_records(
        settings, entry_ids, "tombstone" if tombstone else "cancel"))  # fmt: skip
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


def _partitions(settings: CommonSettings) -> int:
    """The topic's partitions: the parse works out each record's (as the producer would)."""
    try:
        return len(asyncio.run(partitions_of(settings, settings.topic(TOPIC))))
    except (KafkaError, LookupError) as exc:
        typer.echo(f"Kafka unreachable ({type(exc).__name__}): nothing published", err=True)
        raise typer.Exit(1) from exc


def _source(text: str) -> tuple[Format, Path]:
    fmt, sep, name = text.partition(":")
    try:
        found = Format(fmt)
    except ValueError:
        found = None
    path = Path(name)
    if not sep or found is None or not path.is_file():
        raise typer.BadParameter(
            f"{text!r}: expected FORMAT:FILE with FORMAT one of {', '.join(Format)} and an "
            "existing file",
            param_hint="SOURCES",
        )
    return found, path


@app.command("build-index")
def build_index(  # typer options are keyword arguments by nature
    *,
    store: Path = typer.Argument(..., file_okay=False, help="The store directory to (re)build"),
    sources: list[str] = typer.Argument(
        ..., help="FORMAT:FILE, one or more (sltd-csv:sltd.csv jsonl:notices.jsonl), in order"
    ),
    list_kind: ListKind | None = typer.Option(None, "--list", help="As for load"),
    issuer: str | None = typer.Option(None, help="As for load"),
    action: Action | None = typer.Option(None, help="As for load"),
    skip_invalid: bool = typer.Option(False, help="Build from the valid records, list the rest"),
    offline: bool = typer.Option(
        False,
        help="Do not ask the broker for the topic's end offsets: the matcher then reads the "
        "whole topic on top of the store at its first start",
    ),
) -> None:
    """Build the matcher's document store from the files already loaded to the topic.

    The store records the topic's end offsets taken before the build (the files must be what
    was loaded up to then), so a matcher starting on it reads only later changes.
    ``relay watchlist check-index`` then compares store and topic.
    """
    options = _options(list_kind, issuer, action)
    parsed = [_source(text) for text in sources]
    settings = CommonSettings()
    configure_logging(settings)
    topic = settings.topic(TOPIC)
    offsets = None if offline else _end_offsets(settings, topic)
    store.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=store.parent, prefix=".relay-build-") as folder:
        result = _parse(parsed, options, Path(folder), Sink.STORE)
        _print_plan(result, False)
        if result.bad_count and not skip_invalid:
            typer.echo(f"no store built: {result.bad_count} bad record(s)", err=True)
            raise typer.Exit(1)
        built = build_from_parts(store, topic, result.parts, offsets)
    size = DocStore.open(store, topic, readonly=True).stats()["file_bytes"]
    typer.echo(
        f"built {store}: {built.persons} person(s), {built.sltd} SLTD entr(ies), "
        f"{built.documents} document key(s), {size:,} bytes, sorted and written in "
        f"{built.seconds:.1f} s; offsets {offsets if offsets is not None else 'none (offline)'}"
    )


def _end_offsets(settings: CommonSettings, topic: str) -> dict[int, int]:
    async def ends() -> dict[int, int]:
        partitions = await partitions_of(settings, topic)
        async with make_consumer(settings, group_id=None) as consumer:
            found = await consumer.end_offsets(partitions)
        return {tp.partition: offset for tp, offset in found.items()}

    try:
        return asyncio.run(ends())
    except (KafkaError, LookupError) as exc:
        typer.echo(f"cannot read the topic's end offsets ({exc}); or pass --offline", err=True)
        raise typer.Exit(1) from exc


@app.command("check-index")
def check_index(
    store: Path = typer.Argument(..., exists=True, file_okay=False, help="The store directory"),
) -> None:
    """Compare the store with the topic up to the offsets it recorded; exit 1 if they differ."""
    settings = CommonSettings()
    configure_logging(settings)
    topic = settings.topic(TOPIC)
    try:
        opened = DocStore.open(store, topic, readonly=True)
    except StoreUnusable as exc:
        typer.echo(f"unusable store: {exc}", err=True)
        raise typer.Exit(1) from exc
    found = asyncio.run(compare(settings, opened))
    typer.echo(
        f"topic: {found.persons} person(s), {found.sltd} SLTD; store: {found.store_persons} "
        f"person(s), {found.store_sltd} SLTD; {found.missing_count} entr(ies) not as on the topic"
        + (f" ({', '.join(found.missing)})" if found.missing else "")
    )
    if not found.agrees:
        raise typer.Exit(1)
