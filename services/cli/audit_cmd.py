"""``relay audit``: who did what, when and from where, from ``notifications.audit``.

Selects by alert, entry, officer, country, action and time span; prints a table, or exports
CSV or JSON lines (``--format``, to ``--out`` or standard output).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import typer
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.table import Table

from services.common.settings import CommonSettings
from services.tooling.ops.audit import AuditQuery, Row, country_of, query_audit

console = Console()
# Shown in the table beside who and when; every detail is in the exports.
WHAT_KEYS = ("notice", "outcome", "state", "suppression_id", "file", "entries", "replayed")
WHERE_KEYS = ("via", "client", "host", "recipient", "channel")
CSV_COLUMNS = (
    "at", "action", "actor", "country", "alert_id", "entry_id", "what", "where", "details",
)  # fmt: skip


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSONL = "jsonl"


def _when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO date or time", param_hint=option
        ) from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _shown(row: Row, keys: tuple[str, ...]) -> str:
    return " ".join(f"{k}={row.details[k]}" for k in keys if row.details.get(k) is not None)


def table(rows: list[Row]) -> Table:
    out = Table()
    for name in ("at (UTC)", "action", "actor", "country", "alert", "entry", "what", "where"):
        out.add_column(name, overflow="fold")  # a narrow terminal wraps; nothing is cut off
    for row in rows:
        out.add_row(
            row.at.astimezone(UTC).isoformat(timespec="milliseconds"), row.action, row.actor,
            country_of(row) or "", row.alert_id or "", str(row.details.get("entry_id", "")),
            _shown(row, WHAT_KEYS), _shown(row, WHERE_KEYS),
        )  # fmt: skip
    return out


def csv_text(rows: list[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.at.isoformat(), row.action, row.actor, country_of(row) or "",
                row.alert_id or "", row.details.get("entry_id", ""), _shown(row, WHAT_KEYS),
                _shown(row, WHERE_KEYS),
                json.dumps(row.details, ensure_ascii=False, sort_keys=True),
            ]
        )  # fmt: skip
    return buffer.getvalue()


def jsonl_text(rows: list[Row]) -> str:
    return "".join(json.dumps(r.as_dict(), ensure_ascii=False) + "\n" for r in rows)


def register(app: typer.Typer) -> None:
    @app.command("audit")
    def audit(
        *,
        alert: str | None = typer.Option(None, "--alert", help="One alert's trail (a-...)"),
        entry: str | None = typer.Option(None, "--entry", help="A watchlist entry id"),
        officer: str | None = typer.Option(
            None, "--officer", help="Who acted: KAZ-NCB/kaz.duty1, or the account kaz.duty1"
        ),
        country: str | None = typer.Option(None, "--country", help="ISO 3166-1 alpha-3"),
        action: list[str] = typer.Option([], "--action", help="Only these actions (repeat)"),
        since: str | None = typer.Option(None, "--since", help="From (ISO time; UTC if bare)"),
        until: str | None = typer.Option(None, "--until", help="Until (ISO time; inclusive)"),
        fmt: Format = typer.Option(Format.TABLE, "--format", help="table, csv or jsonl"),
        out: Path | None = typer.Option(None, "--out", help="Write the export to this file"),
    ) -> None:
        """The audit trail, oldest first; one alert's trail begins with its creation."""
        query = AuditQuery(
            alert_id=alert, entry_id=entry, officer=officer,
            country=country.upper() if country else None, actions=frozenset(action),
            since=_when(since, "--since"), until=_when(until, "--until"),
        )  # fmt: skip
        try:
            rows = asyncio.run(query_audit(CommonSettings(), query))
        except (KafkaError, LookupError) as exc:
            typer.echo(f"cannot read the audit trail ({type(exc).__name__}: {exc})", err=True)
            raise typer.Exit(1) from exc
        if fmt == Format.TABLE and out is None:
            console.print(table(rows))
            return
        text = csv_text(rows) if fmt == Format.CSV else jsonl_text(rows)
        if fmt == Format.TABLE:
            text = jsonl_text(rows)  # a file gets the lines a machine can read back
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.write_text(text, encoding="utf-8")
            typer.echo(f"{len(rows)} records written to {out}", err=True)
