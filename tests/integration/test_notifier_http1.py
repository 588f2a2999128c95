"""The lean webhook client against real sockets: keep-alive, slicing, timeouts, failures."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable

import pytest

from services.notifier.channels.http1 import LeanPoster, _Answer


class Peer:
    """A raw TCP server answering each request with ``answer(request_number)`` (bytes, or
    None to stay silent, or b"" to close without answering)."""

    def __init__(self, answers: Callable[[int], bytes | None], split: int = 0) -> None:
        self.answers = answers
        self.split = split  # send the answer in pieces of this size (0: all at once)
        self.requests = 0
        self.connections = 0
        self.server: asyncio.Server | None = None
        self.open: set[asyncio.StreamWriter] = set()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hook/x?q=1"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"POST /hook/x?q=1 HTTP/1.1\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                self.requests += 1
                answer = self.answers(self.requests)
                if answer is None:
                    await reader.read()  # silent until the client gives up
                    return
                if not answer:
                    return
                step = self.split or len(answer)
                for start in range(0, len(answer), step):
                    writer.write(answer[start : start + step])
                    await writer.drain()
                if b"Connection: close" in answer or answer.startswith(b"HTTP/1.0"):
                    return  # the body, if any, ends with the connection
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open.discard(writer)
            writer.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.open):  # its handlers end on their own (EOF), none is cancelled
            writer.transport.abort()
        await self.server.wait_closed()


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"


@pytest.fixture
async def poster() -> AsyncIterator[LeanPoster]:
    client = LeanPoster(timeout_s=0.5, connections=4)
    yield client
    await client.aclose()


@pytest.mark.parametrize("answer", [OK, CHUNKED])
@pytest.mark.parametrize("split", [0, 1, 5])
async def test_keep_alive_reuses_one_connection(
    poster: LeanPoster, answer: bytes, split: int
) -> None:
    peer = Peer(lambda _: answer, split=split)
    url = await peer.start()
    for _ in range(20):
        reply = await poster.post(url, b'{"a":1}', {"webhook-id": "n-1"})
        assert reply.status_code == 200
    assert peer.requests == 20
    assert peer.connections == 1
    await peer.stop()


async def test_answers_are_freed_without_the_cyclic_collector(poster: LeanPoster) -> None:
    """An answer and its parser refer to each other until the exchange ends; left to the
    collector, they reached the notifier's oldest generation, freed only by a full pause."""
    peer = Peer(lambda n: b"" if n == 5 else OK)  # the fifth request: closed without an answer
    url = await peer.start()
    gc.collect()
    gc.disable()
    try:
        for number in range(1, 11):
            if number == 5:
                with pytest.raises(ConnectionError):
                    await poster.post(url, b"{}", {})
            else:
                assert (await poster.post(url, b"{}", {})).status_code == 200
        # (the failed request's answer may live on in its traceback's frames, but not in a cycle)
        cycles = [o for o in gc.get_objects() if isinstance(o, _Answer) and o.parser is not None]
    finally:
        gc.enable()
    assert cycles == []
    await peer.stop()


async def test_concurrent_posts_stay_within_the_pool_limit(poster: LeanPoster) -> None:
    peer = Peer(lambda _: OK)
    url = await peer.start()
    replies = await asyncio.gather(*(poster.post(url, b"{}", {}) for _ in range(50)))
    assert all(r.status_code == 200 for r in replies)
    assert peer.requests == 50
    assert 1 <= peer.connections <= 4
    await peer.stop()


async def test_connection_close_and_retry_after(poster: LeanPoster) -> None:
    closing = b"HTTP/1.1 429 Slow down\r\nRetry-After: 3\r\nConnection: close\r\n\r\n"
    peer = Peer(lambda n: closing if n == 1 else b"HTTP/1.0 503 Busy\r\n\r\nbody until close")
    url = await peer.start()
    first = await poster.post(url, b"{}", {})
    assert (first.status_code, first.retry_after) == (429, "3")
    second = await poster.post(url, b"{}", {})
    assert (second.status_code, second.retry_after) == (503, None)
    assert peer.connections == 2
    await peer.stop()


async def test_silence_times_out_then_the_next_request_gets_a_fresh_connection(
    poster: LeanPoster,
) -> None:
    peer = Peer(lambda n: None if n == 1 else OK)
    url = await peer.start()
    with pytest.raises(TimeoutError):
        await poster.post(url, b"{}", {})
    assert (await poster.post(url, b"{}", {})).status_code == 200
    assert peer.connections == 2
    await peer.stop()


async def test_closed_without_answer_and_refused_are_connection_errors(
    poster: LeanPoster,
) -> None:
    peer = Peer(lambda n: b"" if n == 1 else OK)
    url = await peer.start()
    with pytest.raises(ConnectionError):
        await poster.post(url, b"{}", {})
    assert (await poster.post(url, b"{}", {})).status_code == 200
    await peer.stop()
    fresh = LeanPoster(timeout_s=0.5, connections=4)  # no pooled connection to fall back on
    with pytest.raises(ConnectionError):
        await fresh.post(url, b"{}", {})  # nobody listens any more
    await fresh.aclose()
    with pytest.raises(ConnectionError):
        await poster.post("ftp://127.0.0.1/x", b"{}", {})
