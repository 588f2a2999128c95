"""``python -m services.matcher``: run one matcher process (settings from RELAY_*)."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from faust.worker import Worker

from services.common.logging import configure_logging, get_logger
from services.matcher.app import MatcherApp
from services.matcher.faust_app import Matcher
from services.matcher.settings import MatcherEngine, MatcherSettings


async def _run_batch(settings: MatcherSettings) -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopped.set)
    async with MatcherApp(settings, service_process=True):
        await stopped.wait()


def _run_faust(settings: MatcherSettings) -> None:
    matcher = Matcher(settings)
    # faust's worker owns the event loop and signal handling (SIGTERM/SIGINT stop cleanly).
    worker = Worker(matcher.app, loglevel="warn", quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()


def main() -> None:
    settings = MatcherSettings()
    configure_logging(settings)
    get_logger(__name__).info(
        "matcher.starting",
        bootstrap=settings.kafka_bootstrap,
        port=settings.matcher_http_port,
        engine=settings.matcher_engine.value,
    )
    if settings.matcher_engine is MatcherEngine.FAUST:
        _run_faust(settings)
    else:
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(_run_batch(settings))


if __name__ == "__main__":
    main()
