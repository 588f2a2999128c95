"""``relay ingest ...``: tools for the ingest service's agencies file."""

from __future__ import annotations

import sys

import typer

from services.ingest.domain.agencies import hash_key, new_key

app = typer.Typer(no_args_is_help=True, help="Ingest: API keys for border agencies.")


@app.command("hash-key")
def hash_key_command(
    key: str | None = typer.Option(None, help="An existing key; default: make a new one"),
) -> None:
    """Print a key_sha256 line for the agencies file (and the new key, on standard error)."""
    if key is None:
        key = new_key()
        sys.stderr.write(f"new API key (hand it to the agency, store it nowhere else): {key}\n")
    sys.stdout.write(f"      - {hash_key(key)}\n")
