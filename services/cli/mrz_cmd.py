"""``relay mrz LINE LINE [LINE]``: read an ICAO 9303 machine-readable zone and verify it.

Prints the parsed fields as one JSON object (with ``valid`` and ``errors``); exit status 0 when
the MRZ is valid, 1 otherwise. The same reader (``schemas.mrz``) is what ingest uses.
"""

from __future__ import annotations

import sys

import orjson
import typer

from schemas.mrz import read_mrz


def mrz(
    lines: list[str] = typer.Argument(..., help="The MRZ lines (2 or 3), each quoted."),
) -> None:
    """Parse an MRZ, check every check digit and say which field failed."""
    result = read_mrz(lines)
    sys.stdout.buffer.write(
        orjson.dumps(result.model_dump(mode="json"), option=orjson.OPT_INDENT_2)
    )
    sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()
    raise typer.Exit(0 if result.valid else 1)


def register(app: typer.Typer) -> None:
    app.command("mrz")(mrz)
