"""One lifecycle for every service: start, ready, drain, stop.

A service's ``app.py`` is wiring only: a ``Service`` whose ``start`` step opens clients, rebuilds
state, spawns tasks on its ``Lifecycle`` and sets readiness conditions as they come true::

    class MatcherApp(Service):
        async def start(self, life: Lifecycle) -> None:
            producer = await life.open(make_producer(settings))   # stopped last
            life.on_drain(batches.flush)          # after the tasks, before the clients close
            life.spawn(state.run(), "watchlist-state")
            self.readiness.set(WATCHLIST_CAUGHT_UP, True, "index caught up")

Shutdown is the same whatever asks for it: SIGTERM/SIGINT (``run_until_signalled``), uvicorn's
lifespan (ingest), or the end of ``async with`` in a test:

1. drain: ``/readyz`` answers "stopping"; the tasks are cancelled and awaited (a consume loop
   first commits what it handled); then the drain steps run, the latest registered first:
   finish in-flight work, flush what is batched;
2. stop: the clients close, the latest opened first.

A start that fails part way drains and stops what it had begun.
"""

from __future__ import annotations

import asyncio
import signal
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any, Protocol, Self, TypeVar

from services.common.health import Readiness
from services.common.logging import get_logger
from services.common.tasks import cancel_and_wait

log = get_logger(__name__)

Step = Callable[[], Awaitable[Any]]
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Client(Protocol):
    """What ``Lifecycle.open`` starts and stops (aiokafka's producers and consumers fit)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


_Client = TypeVar("_Client", bound=Client)


class Lifecycle:
    """The tasks, drain steps and clients of one running service, in the order they end."""

    def __init__(self, service: str, readiness: Readiness) -> None:
        self.service = service
        self.readiness = readiness
        self._tasks: list[asyncio.Task[Any]] = []
        self._drain = AsyncExitStack()
        self._stop = AsyncExitStack()
        self._shut = False

    async def open(self, client: _Client) -> _Client:
        """Start ``client`` now; it is stopped in the stop phase."""
        await client.start()
        self.on_stop(client.stop)
        return client

    def on_stop(self, close: Step) -> None:
        """Close a client in the stop phase (the latest registered first)."""
        self._stop.push_async_callback(close)

    def on_drain(self, step: Step) -> None:
        """Finish or flush work once the tasks have ended, before any client closes."""
        self._drain.push_async_callback(step)

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """A task of the service, cancelled when it drains."""
        return self.adopt(asyncio.create_task(work, name=name))

    def adopt(self, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        """A task started elsewhere (an HTTP server's), cancelled when the service drains."""
        self._tasks.append(task)
        return task

    async def start(self, step: Callable[[Lifecycle], Awaitable[None]]) -> None:
        """Run the service's start step; if it fails, what it began is drained and stopped."""
        try:
            await step(self)
        except BaseException:
            await self.shutdown()
            raise

    async def shutdown(self) -> None:
        """Drain, then stop; once (a second call returns at once)."""
        if self._shut:
            return
        self._shut = True
        log.info("service.stopping", service=self.service)
        self.readiness.stopping()
        try:
            await cancel_and_wait(self._tasks)
            await self._drain.aclose()
        finally:
            await self._stop.aclose()
        log.info("service.stopped", service=self.service)


class Service(ABC):
    """A service's app: ``async with`` runs its lifecycle (start on entry, shutdown on exit)."""

    def __init__(self, name: str, readiness: Readiness) -> None:
        self.readiness = readiness
        self.life = Lifecycle(name, readiness)

    @abstractmethod
    async def start(self, life: Lifecycle) -> None:
        """Open clients, rebuild state, spawn tasks; set readiness conditions as they hold."""

    async def __aenter__(self) -> Self:
        await self.life.start(self.start)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.life.shutdown()


async def run_until_signalled(service: AbstractAsyncContextManager[Any]) -> None:
    """``python -m services.<svc>``: run ``service`` until SIGTERM or SIGINT, then shut it down.
    A signal during start cancels the start (raising CancelledError here)."""
    stop = asyncio.Event()
    main = asyncio.current_task()
    started = False

    def on_signal() -> None:
        if started:
            stop.set()
        elif main is not None:
            main.cancel()

    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal)
    try:
        async with service:
            started = True
            await stop.wait()
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
