"""``relay tail TOPIC``: live records, personal data redacted unless ``--show-pii``."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import typer
from rich.console import Console
from rich.syntax import Syntax

from schemas.topics import topic_name
from services.common.settings import CommonSettings
from services.tooling.ops.tail import TailRequest, tail

console = Console()


def _print(view: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(view, ensure_ascii=False))
        return
    where = f"{view['topic']}[{view['partition']}]@{view['offset']}"
    console.print(f"[bold]{where}[/bold] {view['timestamp']} key={view['key']}")
    for name, value in view["headers"].items():
        console.print(f"  {name}: {value}", markup=False)
    body = json.dumps(view["value"], indent=2, ensure_ascii=False)
    console.print(Syntax(body, "json", word_wrap=True))


def register(app: typer.Typer) -> None:
    @app.command("tail")
    def tail_command(
        topic: str = typer.Argument(..., help="Catalogue topic name, e.g. alerts"),
        from_beginning: bool = typer.Option(False, help="Start at the oldest record"),
        limit: int | None = typer.Option(None, min=1, help="Stop after this many records"),
        show_pii: bool = typer.Option(False, help="Show names, dates of birth, documents"),
        as_json: bool = typer.Option(False, "--json", help="One JSON object a line"),
    ) -> None:
        """Pretty-print records as they arrive (Ctrl-C stops)."""
        try:
            request = TailRequest(
                topic=topic_name(topic),
                from_beginning=from_beginning,
                limit=limit,
                show_pii=show_pii,
            )
            asyncio.run(tail(CommonSettings(), request, lambda v: _print(v, as_json)))
        except LookupError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
        except KeyboardInterrupt:
            pass
