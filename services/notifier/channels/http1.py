"""A lean HTTP/1.1 keep-alive client for webhook POSTs: one small pool per endpoint URL.

A webhook needs one request shape (POST, a small body, a status and one header back), so the
general clients' layers (URL objects, multidicts, tracing, cookie jars, redirect and proxy
handling, per-request tasks and timers) cost several times the request itself at hundreds of
requests a second. Here a request is one ``transport.write`` and one future; the response is
read by httptools (llhttp, the C parser uvicorn uses) only as far as needed (status,
``Retry-After``, where the body ends, whether the connection stays open); the body is skipped.

Timeouts are per step, as with the other clients: connecting, then silence while waiting for
the answer (each chunk received restarts it), with four times that for the whole answer. The
wait for a free pooled connection is never counted, so a busy process does not fail healthy
requests. Failures raise ``TimeoutError`` or ``ConnectionError`` only.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools

from services.notifier.channels.posters import Reply

KEEPALIVE_S = 30.0  # an idle connection older than this is closed rather than reused
USER_AGENT = "notice-relay"
MAX_HEAD_BYTES = 65536


class _Answer:
    """One response read with llhttp (httptools, uvicorn's parser): status, ``Retry-After``,
    keep-alive and where the (skipped) body ends. A contact point's reply is untrusted input,
    so parsing is left to a hardened parser; only the head's size limit is ours."""

    def __init__(self) -> None:
        self.parser: httptools.HttpResponseParser | None = httptools.HttpResponseParser(self)
        self.status = 0
        self.retry_after: str | None = None
        self.keep_alive = True
        self.framed = False  # Content-Length or chunked: the body's end is in the stream
        self.head_bytes = 0
        self.head_done = False
        self.complete = False

    def feed(self, data: bytes) -> bool:
        """Add bytes; True once the whole response has been read. Raises ValueError."""
        if not self.head_done:
            self.head_bytes += len(data)
        if self.parser is None:
            raise ValueError("answer already closed")
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            raise ValueError(f"malformed response: {exc}") from exc
        if not self.head_done and self.head_bytes > MAX_HEAD_BYTES:
            raise ValueError("response head too long")
        return self.complete

    def close(self) -> None:
        """Drop the parser: it holds this answer's callbacks, a reference cycle that only the
        cyclic collector would free, after its slowest, full collection (about 80 answers a
        second reached the oldest generation at 600 requests a second)."""
        self.parser = None

    def end_of_stream(self) -> bool:
        """The server closed: True if that completes the response (a close-delimited body)."""
        if self.head_done and not self.framed and not self.complete:
            self.complete, self.keep_alive = True, False
        return self.complete

    # llhttp callbacks
    def on_message_begin(self) -> None:
        if self.complete:  # bytes after the answer: the connection cannot be reused
            self.keep_alive = False

    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        if lowered == b"retry-after":
            self.retry_after = value.decode("latin-1").strip()
        elif lowered in (b"content-length", b"transfer-encoding"):
            self.framed = True

    def on_headers_complete(self) -> None:
        assert self.parser is not None  # called by the parser itself
        self.status = self.parser.get_status_code()
        self.head_done = self.status >= 200  # an interim answer (100 Continue): a head follows
        if not self.head_done:
            self.retry_after, self.framed, self.head_bytes = None, False, 0

    def on_message_complete(self) -> None:
        assert self.parser is not None  # called by the parser itself
        if self.head_done and not self.complete:
            self.complete = True
            self.keep_alive = self.keep_alive and self.parser.should_keep_alive()


class _Connection(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.last_data = 0.0
        self.answer: _Answer | None = None
        self.waiter: asyncio.Future[_Answer] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def request(self, data: bytes) -> asyncio.Future[_Answer]:
        self.answer = _Answer()
        self.waiter = self.loop.create_future()
        self.last_data = self.loop.time()
        assert self.transport is not None
        self.transport.write(data)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        waiter, answer = self.waiter, self.answer
        if waiter is None or answer is None or waiter.done():
            self.abort()  # bytes nobody asked for: the connection cannot be trusted any more
            return
        self.last_data = self.loop.time()
        try:
            if answer.feed(data):
                waiter.set_result(answer)
        except ValueError:
            waiter.set_exception(ConnectionError("BadHttpMessage"))
            self.abort()

    def eof_received(self) -> bool | None:
        return None  # close our side too: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter, answer = self.waiter, self.answer
        if waiter is not None and not waiter.done():
            if answer is not None and answer.end_of_stream():
                answer.keep_alive = False
                waiter.set_result(answer)
            else:
                waiter.set_exception(ConnectionError("ServerDisconnectedError"))

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


@dataclass(frozen=True)
class _Target:
    host: str
    port: int
    tls: bool
    head: str  # request line and the fixed headers


def _target(url: str) -> _Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConnectionError("InvalidURL")
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.netloc.rpartition("@")[2]
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\n"
    return _Target(parts.hostname, port, tls, head)


class _Pool:
    """Keep-alive connections to one endpoint, at most ``limit`` open; newest idle reused."""

    def __init__(self, target: _Target, limit: int, connect_s: float) -> None:
        self.target = target
        self.limit = limit
        self.connect_s = connect_s
        self.idle: list[_Connection] = []
        self.open = 0
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(
        self, loop: asyncio.AbstractEventLoop, tls: ssl.SSLContext | None
    ) -> _Connection:
        while True:
            while self.idle:
                conn = self.idle.pop()
                if not conn.closed and loop.time() - conn.idle_since < KEEPALIVE_S:
                    return conn
                self._discard(conn)
            if self.open < self.limit:
                break
            waiter = loop.create_future()
            self.waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # woken, then cancelled: pass the free slot on
                raise
        self.open += 1
        try:
            return await asyncio.wait_for(self._connect(loop, tls), self.connect_s)
        except BaseException:
            self.open -= 1
            self._wake()
            raise

    async def _connect(
        self, loop: asyncio.AbstractEventLoop, tls: ssl.SSLContext | None
    ) -> _Connection:
        t = self.target
        _, conn = await loop.create_connection(
            lambda: _Connection(loop), t.host, t.port,
            ssl=tls if t.tls else None, server_hostname=t.host if t.tls else None,
        )  # fmt: skip
        return conn

    def release(self, conn: _Connection, reuse: bool) -> None:
        if reuse and not conn.closed:
            conn.idle_since = conn.loop.time()
            conn.waiter = conn.answer = None
            self.idle.append(conn)
        else:
            self._discard(conn)
        self._wake()

    def _discard(self, conn: _Connection) -> None:
        conn.abort()
        self.open -= 1

    def _wake(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self) -> None:
        for conn in self.idle:
            conn.abort()
        self.idle.clear()


class LeanPoster:
    """``Poster`` over plain asyncio transports (see the module docstring)."""

    def __init__(self, timeout_s: float, connections: int) -> None:
        self.timeout_s = timeout_s
        self.total_s = 4 * timeout_s
        self.connections = connections
        self.pools: dict[str, _Pool] = {}
        self._tls: ssl.SSLContext | None = None

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        pool = self.pools.get(url)
        if pool is None:  # an invalid URL raises ConnectionError each time, as aiohttp's does
            pool = self.pools[url] = _Pool(_target(url), self.connections, self.timeout_s)
        loop = asyncio.get_running_loop()
        data = _request(pool.target.head, body, headers)
        try:
            conn = await pool.acquire(loop, self._context(pool.target))
        except TimeoutError:
            raise
        except OSError as exc:
            raise ConnectionError(type(exc).__name__) from exc
        answer = await self._exchange(loop, pool, conn, data)
        return Reply(answer.status, answer.retry_after)

    async def _exchange(
        self, loop: asyncio.AbstractEventLoop, pool: _Pool, conn: _Connection, data: bytes
    ) -> _Answer:
        waiter = conn.request(data)
        pending = conn.answer
        deadline = loop.time() + self.total_s
        timer = loop.call_later(self.timeout_s, self._check, loop, conn, waiter, deadline)
        reuse = False
        try:
            answer = await waiter
            reuse = answer.keep_alive
            return answer
        finally:
            timer.cancel()
            if pending is not None:
                pending.close()
            pool.release(conn, reuse)  # anything but a complete answer closes the connection

    def _check(
        self,
        loop: asyncio.AbstractEventLoop,
        conn: _Connection,
        waiter: asyncio.Future[_Answer],
        deadline: float,
    ) -> None:
        """Timer: fail the request after ``timeout_s`` of silence or past the whole deadline."""
        if waiter.done():
            return
        now = loop.time()
        quiet_until = conn.last_data + self.timeout_s
        if now >= deadline or now >= quiet_until:
            waiter.set_exception(TimeoutError())
            conn.abort()
            return
        loop.call_later(min(quiet_until, deadline) - now, self._check, loop, conn, waiter, deadline)

    def _context(self, target: _Target) -> ssl.SSLContext | None:
        if target.tls and self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    async def aclose(self) -> None:
        for pool in self.pools.values():
            pool.close()
        self.pools.clear()


def _request(head: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [head, f"Content-Length: {len(body)}\r\n"]
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise ValueError(f"header {name!r} holds a line break")
        lines.append(f"{name}: {value}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1") + body
