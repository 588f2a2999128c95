"""Running the app under uvicorn: in the foreground (``__main__``) or as a task (tests, bench)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn

from services.common.http_server import server_config
from services.ingest.app import create_app
from services.ingest.settings import IngestSettings


def uvicorn_config(
    settings: IngestSettings, port: int | None = None, *, service_process: bool = False
) -> uvicorn.Config:
    """``service_process``: this process is the ingest service (``__main__``), not a test."""
    return server_config(
        create_app(settings, settle_heap=service_process),
        settings,
        settings.ingest_http_host,
        settings.ingest_http_port if port is None else port,
        limit_concurrency=settings.ingest_http_max_concurrency,
        # The guarded protocol is uvicorn's httptools one (the compiled parser costs far less CPU
        # per request than h11); uvloop likewise, and a missing one should fail loudly rather
        # than quietly halve the throughput. (``serving`` runs in the caller's loop, so there
        # only the protocol applies.)
        loop="uvloop",
        lifespan="on",
        timeout_graceful_shutdown=10,
    )


@contextlib.asynccontextmanager
async def serving(settings: IngestSettings, port: int) -> AsyncIterator[str]:
    """Serve on ``port`` in this event loop; yields the base URL once it accepts requests."""
    server = uvicorn.Server(uvicorn_config(settings, port))
    # Signals belong to whoever runs the event loop (pytest, a benchmark), not to this server.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # re-raise why it did not start
                raise RuntimeError("ingest server exited before it started")
            await asyncio.sleep(0.02)
        yield f"http://{settings.ingest_http_host}:{port}"
    finally:
        server.should_exit = True
        await task
