"""``python -m services.notifier``: settings once, logging once, run until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import sys

from pydantic import ValidationError

from services.common.gcpolicy import spare_exit
from services.common.lifecycle import run_until_signalled
from services.common.logging import configure_logging
from services.notifier.app import NotifierApp
from services.notifier.settings import NotifierSettings


def main() -> None:
    try:
        settings = NotifierSettings()
    except ValidationError as exc:
        # Refuse to start, saying which setting is wrong (never its value).
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        sys.exit(f"notifier: refusing to start: {problems}")
    configure_logging(settings)
    with contextlib.suppress(asyncio.CancelledError):
        asyncio.run(run_until_signalled(NotifierApp(settings, service_process=True)))
    spare_exit()


if __name__ == "__main__":
    main()
