"""Request latency by endpoint and status, as a pure ASGI middleware (cheap per request)."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.ingest.metrics import observe_request

_KNOWN = frozenset({"/v1/events", "/v1/events:batch", "/healthz", "/readyz", "/metrics"})


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            path = scope.get("path", "")
            endpoint = path if path in _KNOWN else "other"
            observe_request(endpoint, status["code"], time.perf_counter() - start)
