"""One address in front of N local replicas: a round-robin TCP front for ``relay run``.

In a cluster the Service (kube-proxy) or compose's DNS does this. Locally, ``relay run
--replicas N`` starts this front on the ingest port and on the notifier's, so clients, duty
officers and signed links keep one address. Any notifier replica serves any console session
(sessions and links are signed with the secrets every replica shares, and every replica shows
the country's whole inbox), so no stickiness is needed. It balances
per connection, as kube-proxy does: a client that keeps its connection open stays with one
replica, and a new connection goes to the next. A replica that refuses the connection (dead,
or not listening yet) is skipped, so a killed replica costs no request made after it died.

``python -m services.cli.replicas --listen 127.0.0.1:8080 --to 127.0.0.1:41001,127.0.0.1:41002``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import signal
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field

Address = tuple[str, int]
CHUNK = 65_536
CONNECT_TIMEOUT_S = 2.0
# Services that run as N replicas locally (the analyst keeps one ordered history: one
# partition), and those of them that clients reach at one address through a front.
SCALED = ("ingest", "matcher", "notifier")
FRONTED = ("ingest", "notifier")


@dataclass(frozen=True)
class Replica:
    """One process of a service: its name (log file), HTTP port and its own environment."""

    name: str
    service: str
    port: int
    env: dict[str, str]


def plan(service: str, count: int, port: int) -> list[Replica]:
    """The processes of ``service``: one on ``port``, or ``count`` on ports of their own.

    The matcher's first replica keeps ``port`` (the address Prometheus and the README name);
    the replicas of a ``FRONTED`` service all get free ports behind the front on ``port``.
    Each replica has its own Kafka client id, so ``relay status`` and the broker tell the
    group's members apart.
    """
    if count <= 1 or service not in SCALED:
        return [Replica(service, service, port, {})]
    keep_first = service not in FRONTED
    found = []
    for n in range(1, count + 1):
        name = f"{service}-{n}"
        own = port if keep_first and n == 1 else free_port()
        env = {f"RELAY_{service.upper()}_HTTP_PORT": str(own), "RELAY_KAFKA_CLIENT_ID": name}
        found.append(Replica(name, service, own, env))
    return found


def front_command(python: str, port: int, replicas: Sequence[Replica]) -> list[str]:
    """The command that runs the round-robin front on ``port`` before ``replicas``."""
    upstreams = ",".join(f"127.0.0.1:{r.port}" for r in replicas)
    return [python, "-m", "services.cli.replicas", "--listen", f"127.0.0.1:{port}", "--to",
            upstreams]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        found: int = sock.getsockname()[1]
        return found


def parse_address(text: str) -> Address:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


@dataclass
class RoundRobin:
    """Accepts connections and splices each to the next replica that answers."""

    upstreams: Sequence[Address]
    connections: int = 0
    served: dict[Address, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.upstreams:
            raise ValueError("a round-robin front needs at least one upstream")
        self._turn = itertools.cycle(range(len(self.upstreams)))
        self._open: dict[asyncio.Task[None], list[asyncio.StreamWriter]] = {}
        self._server: asyncio.Server | None = None

    async def serve(self, listen: Address) -> asyncio.Server:
        self._server = await asyncio.start_server(self._client, *listen)
        return self._server

    async def aclose(self) -> None:
        """Stop accepting, close every open connection and wait for their tasks."""
        if self._server is not None:
            self._server.close()
        for writers in self._open.values():
            for writer in writers:
                writer.close()
        await asyncio.gather(*self._open, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._open[task] = [writer]
        try:
            upstream = await self._connect()
            if upstream is None:
                return  # no replica answers: the client sees its connection closed
            (up_reader, up_writer), address = upstream
            self._open[task].append(up_writer)
            self.served[address] = self.served.get(address, 0) + 1
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            writer.close()
            del self._open[task]

    async def _connect(
        self,
    ) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter], Address] | None:
        first = next(self._turn)
        for step in range(len(self.upstreams)):
            address = self.upstreams[(first + step) % len(self.upstreams)]
            try:
                opened = asyncio.open_connection(*address)
                return await asyncio.wait_for(opened, CONNECT_TIMEOUT_S), address
            except (OSError, TimeoutError):
                continue
        return None


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until end of stream, then close the write side (each direction on its own)."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass  # a reset on either side ends this connection only
    finally:
        with contextlib.suppress(OSError):
            writer.close()


async def _run(listen: Address, upstreams: list[Address]) -> None:
    front = RoundRobin(upstreams)
    await front.serve(listen)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await front.aclose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Round-robin TCP front for local replicas")
    parser.add_argument("--listen", required=True, help="host:port to accept connections on")
    parser.add_argument("--to", required=True, help="comma-separated host:port of the replicas")
    args = parser.parse_args(argv)
    upstreams = [parse_address(a) for a in args.to.split(",") if a]
    asyncio.run(_run(parse_address(args.listen), upstreams))


if __name__ == "__main__":
    main()
