"""``python -m services.matcher``: run one matcher process (settings from RELAY_*)."""

from __future__ import annotations

from faust.worker import Worker

from services.common.logging import configure_logging, get_logger
from services.matcher.app import Matcher
from services.matcher.settings import MatcherSettings


def main() -> None:
    settings = MatcherSettings()
    configure_logging(settings)
    get_logger(__name__).info(
        "matcher.starting", bootstrap=settings.kafka_bootstrap, port=settings.matcher_http_port
    )
    matcher = Matcher(settings)
    # faust's worker owns the event loop and signal handling (SIGTERM/SIGINT stop cleanly).
    worker = Worker(matcher.app, loglevel="warn", quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
