"""Every service's HTTP server: uvicorn with the guarded protocol (``http_guard``), forwarded
headers believed only from configured proxies, and a ``/metrics`` gate.

``BackgroundServer`` runs it as a task beside a service's consumers, on the same loop.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

import uvicorn
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from services.common.http_guard import HttpLimits, guarded_protocol
from services.common.logging import get_logger
from services.common.settings import CommonSettings

log = get_logger(__name__)


def server_config(
    app: Any, settings: CommonSettings, host: str, port: int, **extra: Any
) -> uvicorn.Config:
    """One uvicorn configuration for every service (``extra``: the caller's own options)."""
    limits = HttpLimits(
        header_timeout_s=settings.http_header_timeout_s,
        body_timeout_s=settings.http_body_timeout_s,
        pending_per_client=settings.http_pending_per_client,
    )
    proxies = settings.http_trusted_proxies
    return uvicorn.Config(
        app, host=host, port=port, http=guarded_protocol(limits), log_config=None,
        access_log=False, proxy_headers=bool(proxies),
        forwarded_allow_ips=",".join(proxies) or None, **extra,
    )  # fmt: skip


def metrics_allowed(settings: CommonSettings, authorization: str | None) -> bool:
    """Open unless ``metrics_token`` is set; then only ``Bearer <token>`` (compared as bytes)."""
    if settings.metrics_token is None:
        return True
    expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
    return hmac.compare_digest(expected, (authorization or "").encode("utf-8", "replace"))


class BodyTooLarge(Exception):
    """A body past the caller's limit, declared or actually sent; each service answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"body larger than {limit} bytes")


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refused past ``limit`` bytes before it is all read (never buffered whole)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def client_gone(request: Request, _exc: Exception) -> Response:
    """A client that hangs up mid-body: nobody to answer, nothing went wrong here."""
    assert isinstance(_exc, ClientDisconnect)
    log.info("http.client_disconnected", path=request.url.path)
    return Response(status_code=400)


class BackgroundServer:
    """``await start()`` returns once the port is bound; ``stop()`` asks uvicorn to exit."""

    def __init__(self, app: Any, settings: CommonSettings, host: str, port: int) -> None:
        config = server_config(app, settings, host, port, lifespan="off")
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
