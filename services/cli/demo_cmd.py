"""``relay demo init`` (watchlist, contact points, agencies and keys) and ``relay demo receiver``
(the contact points' stand-in that verifies and shows the signed webhooks)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import orjson
import typer
import uvicorn

from services.demo.accounts import ensure_accounts, sign_in_hint
from services.demo.directory import DEFAULT_DIR, DemoPaths, init_demo, receiver_secrets
from services.demo.receiver import ReceiverState, make_app
from services.demo.watchlist_gen import WatchlistSpec

app = typer.Typer(
    help="The local demo: synthetic watchlist, contact points, webhook receiver.",
    no_args_is_help=True,
)


@app.command("init")
def init(
    directory: Path = typer.Option(DEFAULT_DIR, "--dir", help="Where to write the demo files."),
    receiver_url: str = typer.Option("http://127.0.0.1:8099", help="The demo receiver's URL."),
    persons: int = typer.Option(2000, min=0, help="Person entries in the demo watchlist."),
    sltd: int = typer.Option(5000, min=0, help="Stolen/lost document entries."),
    seed: int = typer.Option(7, help="Seed of the demo watchlist."),
) -> None:
    """Write demo-watchlist.jsonl, contact-points.yaml, agencies.yaml, api-keys.json,
    intake-secrets.json, console-accounts.yaml and console-passwords.json."""
    spec = WatchlistSpec(persons=persons, sltd=sltd, seed=seed)
    summary = init_demo(directory, receiver_url, spec)
    paths = DemoPaths(directory)
    sys.stderr.write(
        f"demo: watchlist {paths.watchlist}, contact points {paths.contact_points} "
        f"(RELAY_NOTIFIER_DIRECTORY_PATH), agencies {paths.agencies} "
        f"(RELAY_INGEST_AGENCIES_FILE), API keys {paths.api_keys}, intake secrets "
        f"{paths.intake_secrets} (all three mode 0600)\n"
    )
    sys.stdout.write(orjson.dumps(dataclasses.asdict(summary)).decode() + "\n")


@app.command("sign-in")
def sign_in(
    directory: Path = typer.Option(DEFAULT_DIR, "--dir", help="The demo directory."),
    url: str = typer.Option("http://127.0.0.1:8081/console/", help="The console's URL."),
) -> None:
    """Print how to sign in to the demo console, as ``relay run`` does (accounts are made
    once, if the demo directory has none yet)."""
    ensure_accounts(directory, DemoPaths(directory).contact_points)
    sys.stdout.write("\n".join(sign_in_hint(directory, url)) + "\n")


@app.command("receiver")
def receiver(
    port: int = typer.Option(8099, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    directory: Path = typer.Option(DEFAULT_DIR, "--dir", help="The demo directory (secrets)."),
    show_pii: bool = typer.Option(False, help="Print names and dates of birth of the alerts."),
) -> None:
    """Receive the notifier's webhooks, verify their signatures and print them."""
    secrets = receiver_secrets(DemoPaths(directory).contact_points)
    state = ReceiverState(secrets, show_pii=show_pii, out=lambda line: print(line, flush=True))
    sys.stderr.write(
        f"demo receiver on http://{host}:{port}/hooks/<COUNTRY>, "
        f"counts at http://{host}:{port}/received\n"
    )
    uvicorn.run(make_app(state), host=host, port=port, log_level="warning")
