"""A gate in front of the demo receiver: passes webhooks through, slowly, or not at all.

The contact points' URLs point at the gate, so a test can take "the contact points' systems"
down (the listening socket closes: connection refused) and bring them back, or make them
answer slowly, while the demo receiver behind keeps verifying signatures and counting.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


@dataclass
class Gate:
    target: str  # the demo receiver's base URL
    port: int
    delay_s: float = 0.0
    passed: int = 0
    _runner: web.AppRunner | None = None
    _client: aiohttp.ClientSession | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def open(self) -> None:
        if self._client is None:
            self._client = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def close(self) -> None:
        """Down: nobody listens on the port any more."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def shutdown(self) -> None:
        await self.close()
        if self._client is not None:
            await self._client.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._client is not None
        if self.delay_s:
            await asyncio.sleep(self.delay_s)  # a slow contact point is the fault under test
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        async with self._client.request(
            request.method, self.target + request.path_qs, data=await request.read(),
            headers=headers,
        ) as answer:  # fmt: skip
            body = await answer.read()
            self.passed += 1
            return web.Response(status=answer.status, body=body)
