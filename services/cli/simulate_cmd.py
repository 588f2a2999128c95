"""``relay simulate``: realistic border traffic into ingest (HTTP) or onto ``ingest.raw``.

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

from services.common.kafka import make_producer
from services.common.settings import CommonSettings
from services.demo.directory import (
    API_KEYS_FILE,
    DEFAULT_DIR,
    INTAKE_SECRETS_FILE,
    WATCHLIST_FILE,
    load_api_keys,
)
from services.demo.send import KafkaSink, Pace, Run, Sink, with_http
from services.demo.simulate import Generated, SimulationSpec, Simulator


class Target(StrEnum):
    HTTP = "http"
    KAFKA = "kafka"


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
) -> None:
    """Generate realistic border traffic for ingest."""
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
    )
    sim = Simulator(spec, entries)
    http = target is Target.HTTP
    one = api_key if http else intake_secret
    if one is not None:
        agency = agency or "DEMO-SIMULATOR"
    agency_keys = _credentials(keys if http else intake_secrets, agency, one)
    if not http and not agency_keys:
        sys.stderr.write(f"simulate: no intake secrets in {intake_secrets}: nothing signs\n")
        raise typer.Exit(2)
    out = record.open("wb") if record is not None else None
    try:
        pace = Pace(
            rate=rate,
            duration_s=duration,
            count=count,
            batch_size=batch_size,
            concurrency=concurrency,
        )
        run = Run(pace, produce=_producer_of(sim, agency), record=_recorder(out))
        elapsed = asyncio.run(_run(run, target, url, agency_keys))
    finally:
        if out is not None:
            out.close()
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


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
