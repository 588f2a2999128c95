"""``relay simulate``: realistic border traffic into ingest (HTTP), onto ``ingest.raw``, or
into a JSONL file on a simulated clock (``--target file``), optionally with planted instances
of the analysis patterns (``--plant``).

Posts of the region with daily profiles, travellers named as their documents name them, a
share of travellers from the demo watchlist and a share of broken records. Reports
accepted/rejected/errors each second on stderr; the last line on stdout is a JSON summary.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import orjson
import typer

from schemas.lead import Pattern
from services.common.kafka import make_producer
from services.common.settings import CommonSettings
from services.demo.directory import (
    API_KEYS_FILE,
    DEFAULT_DIR,
    INTAKE_SECRETS_FILE,
    WATCHLIST_FILE,
    load_api_keys,
)
from services.demo.plant import PlantSpec
from services.demo.send import KafkaSink, Pace, Run, Sink, with_http
from services.demo.simulate import Generated, SimulationSpec, Simulator
from services.demo.to_file import Clock, write_events


class Target(StrEnum):
    HTTP = "http"
    KAFKA = "kafka"
    FILE = "file"


def parse_patterns(text: str | None) -> tuple[Pattern, ...]:
    """``"serial_escort,flow_surge"`` or ``"all"`` -> patterns; refuses unknown names."""
    if not text:
        return ()
    if text.strip() == "all":
        return tuple(Pattern)
    try:
        return tuple(Pattern(word.strip()) for word in text.split(",") if word.strip())
    except ValueError:
        names = ", ".join(Pattern)
        raise typer.BadParameter(f"patterns are: all, {names}", param_hint="--plant") from None


def read_watchlist(path: Path | None) -> list[dict[str, Any]]:
    if path is None or not path.exists():
        return []
    entries = []
    with path.open("rb") as lines:
        for line in lines:
            if line.strip():
                value = orjson.loads(line)
                if isinstance(value, dict):
                    entries.append(value)
    return entries


def _producer_of(sim: Simulator, agency: str | None) -> Any:
    def produce() -> tuple[str, Generated]:
        item = sim.next(dt.datetime.now(dt.UTC))
        if agency is None:
            return item.agency, item
        if isinstance(item.value, dict):
            item.value["reported_by"] = agency
        return agency, item

    return produce


def _recorder(out: IO[bytes] | None) -> Any:
    if out is None:
        return None

    def record(item: Generated, sent_at: float) -> None:
        out.write(
            orjson.dumps(
                {
                    "event_id": item.event_id,
                    "sort": item.sort.value,
                    "entry_id": item.entry_id,
                    "flaw": item.flaw,
                    "planted": item.planted,
                    "sent_at": sent_at,
                }
            )
            + b"\n"
        )

    return record


async def _run(run: Run, target: Target, url: str, keys: dict[str, str]) -> float:
    """``keys``: agency id -> API key (http) or intake secret (kafka)."""

    async def use(sink: Sink) -> float:
        return await run.run(sink)

    if target is Target.HTTP:
        return await with_http(url, keys, use, run.pace.concurrency)
    settings = CommonSettings()
    async with make_producer(settings, linger_ms=5) as producer:
        return await use(KafkaSink(producer, settings.topic("ingest.raw"), keys))


def _credentials(path: Path, agency: str | None, one: str | None) -> dict[str, str]:
    """agency id -> API key (http) or intake secret (kafka): ``one`` for ``agency``, else
    what the demo file at ``path`` holds (nothing when there is none)."""
    if agency is not None and one is not None:
        return {agency: one}
    return load_api_keys(path) if path.exists() else {}


def simulate(  # typer options are keyword arguments by nature
    *,
    rate: float = typer.Option(50.0, min=0.1, help="Events per second."),
    duration: float | None = typer.Option(None, min=0, help="Seconds to run."),
    count: int | None = typer.Option(None, min=1, help="Events to send (instead of a duration)."),
    listed_share: float = typer.Option(0.02, min=0, max=1, help="Share of listed travellers."),
    broken_share: float = typer.Option(0.01, min=0, max=1, help="Share of broken records."),
    target: Target = typer.Option(Target.HTTP, help="http (ingest API) or kafka (ingest.raw)."),
    url: str = typer.Option("http://127.0.0.1:8080", help="Ingest base URL."),
    api_key: str | None = typer.Option(None, help="One API key for every event (with --agency)."),
    intake_secret: str | None = typer.Option(
        None, help="One intake secret (whsec_...) signing every record (kafka, with --agency)."
    ),
    agency: str | None = typer.Option(
        None, help="reported_by for every event (with --api-key or --intake-secret)."
    ),
    keys: Path = typer.Option(DEFAULT_DIR / API_KEYS_FILE, help="Demo API keys (relay demo init)."),
    intake_secrets: Path = typer.Option(
        DEFAULT_DIR / INTAKE_SECRETS_FILE, help="Demo intake secrets (kafka; relay demo init)."
    ),
    watchlist: Path | None = typer.Option(DEFAULT_DIR / WATCHLIST_FILE, help="Demo watchlist."),
    seed: int = typer.Option(1, help="Random seed: the same seed gives the same travellers."),
    batch_size: int = typer.Option(100, min=1, max=500, help="Events per HTTP batch."),
    concurrency: int = typer.Option(16, min=1, help="Batches in flight at most."),
    record: Path | None = typer.Option(None, help="Write event_id, sort, entry_id per event."),
    party_share: float = typer.Option(0.1, min=0, max=1, help="Share of travel parties."),
    plant: str | None = typer.Option(
        None, help="Plant instances of these patterns (comma-separated, or 'all')."
    ),
    plant_instances: int = typer.Option(3, min=1, help="Planted instances per pattern."),
    out: Path | None = typer.Option(None, help="The JSONL file to write (--target file)."),
    start: dt.datetime | None = typer.Option(
        None, help="Simulated clock's start, UTC (--target file; default: --days ago)."
    ),
    days: float = typer.Option(
        60.0, min=0.01, help="Simulated days (--target file) or days planted instances span."
    ),
) -> None:
    """Generate realistic border traffic for ingest, or into a file."""
    if duration is None and count is None:
        duration = 10.0
    entries = read_watchlist(watchlist)
    if listed_share > 0 and not entries:
        sys.stderr.write("simulate: no watchlist: no listed travellers will be sent\n")
    spec = SimulationSpec(
        seed=seed,
        listed_share=listed_share,
        broken_share=broken_share,
        garbage=target is Target.KAFKA,
        party_share=party_share,
    )
    begin = _start(start, days if target is Target.FILE else 0.0)
    patterns = parse_patterns(plant)
    plan = (
        PlantSpec(patterns, begin, dt.timedelta(days=days), plant_instances) if patterns else None
    )
    sim = Simulator(spec, entries, plan)
    if target is Target.FILE:
        _to_file(sim, Clock(begin, dt.timedelta(days=days), count or 1000), out, record)
        return
    http = target is Target.HTTP
    one = api_key if http else intake_secret
    if one is not None:
        agency = agency or "DEMO-SIMULATOR"
    agency_keys = _credentials(keys if http else intake_secrets, agency, one)
    if not http and not agency_keys:
        sys.stderr.write(f"simulate: no intake secrets in {intake_secrets}: nothing signs\n")
        raise typer.Exit(2)
    log = record.open("wb") if record is not None else None
    try:
        pace = Pace(
            rate=rate,
            duration_s=duration,
            count=count,
            batch_size=batch_size,
            concurrency=concurrency,
        )
        run = Run(pace, produce=_producer_of(sim, agency), record=_recorder(log))
        elapsed = asyncio.run(_run(run, target, url, agency_keys))
    finally:
        if log is not None:
            log.close()
    summary = {
        "target": target.value,
        "rate": rate,
        "elapsed_s": round(elapsed, 3),
        "generated": run.generated,
        "sorts": dict(run.sorts),
        "sent": run.total.sent,
        "accepted": run.total.accepted,
        "rejected": run.total.rejected,
        "errors": run.total.errors,
        "achieved_rate": round(run.total.sent / elapsed, 1) if elapsed else 0.0,
    }
    sys.stdout.write(orjson.dumps(summary).decode() + "\n")
    sys.stdout.flush()


def _start(start: dt.datetime | None, days_back: float) -> dt.datetime:
    if start is not None:
        return start if start.tzinfo else start.replace(tzinfo=dt.UTC)
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - dt.timedelta(days=days_back)


def _to_file(sim: Simulator, clock: Clock, out: Path | None, record: Path | None) -> None:
    if out is None:
        raise typer.BadParameter("--target file needs --out", param_hint="--out")
    log = record.open("wb") if record is not None else None
    try:
        with out.open("wb") as events:
            sorts = write_events(sim, clock, events, _recorder_of(log))
    finally:
        if log is not None:
            log.close()
    planted = sim.planter.planted if sim.planter is not None else {}
    summary = {"target": "file", "generated": clock.count, "sorts": dict(sorts), "planted": planted}
    sys.stdout.write(orjson.dumps(summary).decode() + "\n")


def _recorder_of(out: IO[bytes] | None) -> Any:
    record = _recorder(out)
    return None if record is None else (lambda item: record(item, 0.0))


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
