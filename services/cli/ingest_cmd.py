"""``relay ingest ...``: tools for the ingest service's agencies file."""

from __future__ import annotations

import sys

import typer

from schemas.intake import new_secret
from services.ingest.domain.agencies import hash_key, new_key

app = typer.Typer(no_args_is_help=True, help="Ingest: API keys and intake secrets of agencies.")


@app.command("hash-key")
def hash_key_command(
    key: str | None = typer.Option(None, help="An existing key; default: make a new one"),
) -> None:
    """Print a key_sha256 line for the agencies file (and the new key, on standard error)."""
    if key is None:
        key = new_key()
        sys.stderr.write(f"new API key (hand it to the agency, store it nowhere else): {key}\n")
    sys.stdout.write(f"      - {hash_key(key)}\n")


@app.command("intake-secret")
def intake_secret_command() -> None:
    """Print a new intake_secrets line for the agencies file: the agency signs its records on
    ingest.raw with it (schemas/intake.py). Hand it over, keep it in the file only."""
    sys.stdout.write(f"      - {new_secret()}\n")
