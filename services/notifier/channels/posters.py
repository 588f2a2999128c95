"""How the webhook channel POSTs: the reply it needs, the poster protocol, and the aiohttp
poster (the well-kept-library path beside ``http1.LeanPoster``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import aiohttp


@dataclass(frozen=True)
class Reply:
    status_code: int
    retry_after: str | None


class Poster(Protocol):
    """Sends one POST over a keep-alive pool per endpoint URL; raises RETRYABLE on failure."""

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Reply: ...

    async def aclose(self) -> None: ...


class AiohttpPoster:
    """aiohttp (C-accelerated HTTP/1.1), one session (connection pool) per endpoint URL."""

    def __init__(self, timeout_s: float, connections: int) -> None:
        # Per step: a whole-request deadline would also count the wait for a pooled connection
        # and fail healthy requests when the process is merely busy. The total still bounds an
        # endpoint that trickles its answer.
        self.timeout = aiohttp.ClientTimeout(
            total=4 * timeout_s, connect=timeout_s, sock_connect=timeout_s, sock_read=timeout_s
        )
        self.connections = connections
        self.sessions: dict[str, aiohttp.ClientSession] = {}

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        session = self.sessions.get(url)
        if session is None:
            connector = aiohttp.TCPConnector(limit=self.connections, keepalive_timeout=30.0)
            session = self.sessions[url] = aiohttp.ClientSession(
                connector=connector, timeout=self.timeout, cookie_jar=aiohttp.DummyCookieJar()
            )
        try:
            async with session.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                await response.read()
                return Reply(response.status, response.headers.get("retry-after"))
        except TimeoutError:
            raise
        except aiohttp.ClientError as exc:
            raise ConnectionError(type(exc).__name__) from exc

    async def aclose(self) -> None:
        for session in self.sessions.values():
            await session.close()
        self.sessions.clear()
