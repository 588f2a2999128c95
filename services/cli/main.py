"""Entry point of the ``relay`` console script. Wiring only: each group lives in its module."""

from __future__ import annotations

import typer

from services.cli import (
    analyse_cmd,
    audit_cmd,
    demo_cmd,
    dlq_cmd,
    ingest_cmd,
    kafka_cmd,
    mrz_cmd,
    run_cmd,
    screen_cmd,
    simulate_cmd,
    status_cmd,
    tail_cmd,
    topics_cmd,
    watchlist_cmd,
)

app = typer.Typer(
    name="relay",
    help="notice-relay: screen border events against watchlists and alert contact points.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(kafka_cmd.app, name="kafka")
app.add_typer(topics_cmd.app, name="topics")
app.add_typer(dlq_cmd.app, name="dlq")
app.add_typer(watchlist_cmd.app, name="watchlist")
app.add_typer(demo_cmd.app, name="demo")
app.add_typer(ingest_cmd.app, name="ingest")
run_cmd.register(app)
screen_cmd.register(app)
analyse_cmd.register(app)
status_cmd.register(app)
tail_cmd.register(app)
mrz_cmd.register(app)
simulate_cmd.register(app)
audit_cmd.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
