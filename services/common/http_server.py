"""A service's HTTP server (uvicorn) run as a task beside its consumers, on the same loop."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn


class BackgroundServer:
    """``await start()`` returns once the port is bound; ``stop()`` asks uvicorn to exit."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, log_config=None, lifespan="off", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.port = port

    async def start(self) -> asyncio.Task[None]:
        """The serving task (the caller keeps and cancels it); raises if the port is taken."""
        task = asyncio.create_task(self.server.serve(), name="http")
        while not self.server.started:  # uvicorn exposes no event for "bound"
            if task.done():
                await task  # a bind failure ends serve(): surface it
                raise RuntimeError("HTTP server stopped before it started")
            await asyncio.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return task

    async def stop(self) -> None:
        self.server.should_exit = True
