"""``python -m services.notifier``: settings once, logging once, run until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from pydantic import ValidationError

from services.common.logging import configure_logging
from services.notifier.app import run
from services.notifier.settings import NotifierSettings


async def _main(settings: NotifierSettings) -> None:
    task = asyncio.create_task(run(settings))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main() -> None:
    try:
        settings = NotifierSettings()
    except ValidationError as exc:
        # Refuse to start, saying which setting is wrong (never its value).
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        sys.exit(f"notifier: refusing to start: {problems}")
    configure_logging(settings)
    asyncio.run(_main(settings))


if __name__ == "__main__":
    main()
