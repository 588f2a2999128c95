"""uvicorn's HTTP/1.1 protocol with the limits it lacks: header and body read deadlines, and a
cap on each client's connections that have not yet sent a whole request.

uvicorn closes idle keep-alive connections, but a connection that sends part of its headers
(or a slow body) stays open for ever, and each counts against ``limit_concurrency``: a thousand
of them make every service answer 503. Here every request must bring its headers within
``header_timeout_s`` and its body within ``body_timeout_s`` of them. A client's incomplete
connections beyond ``pending_per_client`` evict its oldest one, so a flood from one address
costs only that address's own half-open connections and a new request is always read.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


@dataclass(frozen=True)
class HttpLimits:
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    pending_per_client: int = 32


class _Pending:
    """Each client's connections that have not yet sent a whole request, oldest first."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.by_client: dict[str, dict[GuardedProtocol, None]] = {}

    def add(self, connection: GuardedProtocol) -> None:
        waiting = self.by_client.setdefault(connection.peer, {})
        waiting[connection] = None
        while len(waiting) > self.cap:
            oldest = next(iter(waiting))
            del waiting[oldest]
            oldest.abort()

    def discard(self, connection: GuardedProtocol) -> None:
        waiting = self.by_client.get(connection.peer)
        if waiting is not None:
            waiting.pop(connection, None)
            if not waiting:
                del self.by_client[connection.peer]


class GuardedProtocol(HttpToolsProtocol):
    limits: HttpLimits = HttpLimits()
    pending: _Pending = _Pending(HttpLimits().pending_per_client)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.peer = "?"
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.peer = self.client[0] if self.client else "?"
        self._await_request(self.limits.header_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self._clear_deadline()
        self.pending.discard(self)
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # a keep-alive connection's next request
            self._await_request(self.limits.header_timeout_s)

    def on_headers_complete(self) -> None:
        self._clear_deadline()
        self._deadline = self.loop.call_later(self.limits.body_timeout_s, self.abort)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._clear_deadline()
        self.pending.discard(self)
        super().on_message_complete()

    def abort(self) -> None:
        """Too slow, or evicted: the app (if reading the body) sees a disconnect."""
        self._clear_deadline()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def _await_request(self, timeout_s: float) -> None:
        self._deadline = self.loop.call_later(timeout_s, self.abort)
        self.pending.add(self)

    def _clear_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


def guarded_protocol(limits: HttpLimits) -> type[GuardedProtocol]:
    """A protocol class of its own per server, so two servers in one process keep apart."""
    attributes = {"limits": limits, "pending": _Pending(limits.pending_per_client)}
    return type("GuardedHttpProtocol", (GuardedProtocol,), attributes)
