"""``python -m services.matcher``: run one matcher process (settings from RELAY_*) until
SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib

from services.common.gcpolicy import spare_exit
from services.common.lifecycle import run_until_signalled
from services.common.logging import configure_logging, get_logger
from services.matcher.app import MatcherApp
from services.matcher.settings import MatcherSettings


def main() -> None:
    settings = MatcherSettings()
    configure_logging(settings)
    get_logger(__name__).info(
        "matcher.starting", bootstrap=settings.kafka_bootstrap, port=settings.matcher_http_port
    )
    with contextlib.suppress(asyncio.CancelledError):
        asyncio.run(run_until_signalled(MatcherApp(settings, service_process=True)))
    spare_exit()


if __name__ == "__main__":
    main()
