"""``python -m services.analyst``: run the analysis (settings from RELAY_*) until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib

from services.analyst.app import AnalystApp
from services.analyst.settings import AnalystSettings
from services.common.gcpolicy import spare_exit
from services.common.lifecycle import run_until_signalled
from services.common.logging import configure_logging, get_logger


def main() -> None:
    settings = AnalystSettings()
    configure_logging(settings)
    get_logger(__name__).info(
        "analyst.starting", bootstrap=settings.kafka_bootstrap, port=settings.analyst_http_port
    )
    with contextlib.suppress(asyncio.CancelledError):
        asyncio.run(run_until_signalled(AnalystApp(settings, service_process=True)))
    spare_exit()  # the next start rebuilds the history from Kafka


if __name__ == "__main__":
    main()
