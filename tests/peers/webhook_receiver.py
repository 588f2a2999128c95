"""A real local webhook receiver for tests and the benchmark.

It verifies Standard Webhooks signatures with the reference library (``standardwebhooks``), not
with our own code, counts deliveries by ``webhook-id`` per endpoint, and can be told to fail
(any status), answer 429 with Retry-After, or answer slowly / time out.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Behaviour:
    status: int = 200
    delay_s: float = 0.0
    retry_after: str | None = None
    until: float | None = None  # monotonic time after which the endpoint is healthy again


@dataclass
class Delivery:
    endpoint: str
    webhook_id: str
    body: dict[str, Any]
    received_at: float  # time.time()
    status: int


@dataclass
class WebhookReceiver:
    host: str = "127.0.0.1"
    secrets: dict[str, str] = field(default_factory=dict)  # endpoint -> secret it verifies with
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    accepted: dict[str, Counter[str]] = field(default_factory=dict)  # endpoint -> id -> count
    deliveries: list[Delivery] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)  # endpoint -> requests seen
    rejected: list[str] = field(default_factory=list)  # why signatures failed
    port: int = 0
    _runner: web.AppRunner | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    on_delivery: Callable[[Delivery], None] | None = None

    def url(self, endpoint: str) -> str:
        return f"http://{self.host}:{self.port}/hook/{endpoint}"

    def fail(self, endpoint: str, status: int, for_s: float | None = None, **kw: Any) -> None:
        until = time.monotonic() + for_s if for_s is not None else None
        self.behaviours[endpoint] = Behaviour(status=status, until=until, **kw)

    def slow(self, endpoint: str, delay_s: float) -> None:
        self.behaviours[endpoint] = Behaviour(delay_s=delay_s)

    def heal(self, endpoint: str) -> None:
        self.behaviours.pop(endpoint, None)

    def ids(self, endpoint: str) -> Counter[str]:
        return self.accepted.get(endpoint, Counter())

    async def start(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/hook/{endpoint}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, check: Callable[[], bool], within_s: float) -> None:
        """Wait until ``check()`` holds after some delivery; TimeoutError otherwise."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(check), within_s)

    def _behaviour(self, endpoint: str) -> Behaviour:
        found = self.behaviours.get(endpoint)
        if found is not None and found.until is not None and time.monotonic() >= found.until:
            self.behaviours.pop(endpoint, None)
            return Behaviour()
        return found or Behaviour()

    async def _handle(self, request: web.Request) -> web.Response:
        endpoint = request.match_info["endpoint"]
        body = await request.read()
        self.attempts[endpoint] += 1
        secret = self.secrets.get(endpoint)
        if secret is None:
            return await self._reply(endpoint, web.Response(status=404))
        try:
            Webhook(secret).verify(body, dict(request.headers))
        except WebhookVerificationError as exc:
            self.rejected.append(f"{endpoint}: {exc}")
            return await self._reply(endpoint, web.Response(status=401))
        behaviour = self._behaviour(endpoint)
        if behaviour.delay_s:
            await asyncio.sleep(behaviour.delay_s)  # simulating a slow peer is the point
        if behaviour.status >= 300:
            headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else {}
            return await self._reply(
                endpoint, web.Response(status=behaviour.status, headers=headers)
            )
        webhook_id = request.headers["webhook-id"]
        self.accepted.setdefault(endpoint, Counter())[webhook_id] += 1
        delivery = Delivery(endpoint, webhook_id, orjson.loads(body), time.time(), 200)
        self.deliveries.append(delivery)
        if self.on_delivery is not None:
            self.on_delivery(delivery)
        return await self._reply(endpoint, web.Response(status=200))

    async def _reply(self, endpoint: str, response: web.Response) -> web.Response:
        async with self._changed:
            self._changed.notify_all()
        return response
