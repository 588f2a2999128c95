"""Entry point of the ``relay`` console script. Wiring only: each group lives in its module."""

from __future__ import annotations

import typer

from services.cli import kafka_cmd, run_cmd, topics_cmd

app = typer.Typer(
    name="relay",
    help="notice-relay: screen border events against watchlists and alert contact points.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(kafka_cmd.app, name="kafka")
app.add_typer(topics_cmd.app, name="topics")
run_cmd.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
