"""The one service lifecycle: start, ready, drain, stop, in that order, however it is stopped."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable

import pytest

from services.common.health import KAFKA_CONNECTED, Condition, Readiness
from services.common.lifecycle import Lifecycle, Service, run_until_signalled

READY = "state_rebuilt"


class Client:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    async def start(self) -> None:
        self.log.append(f"start {self.name}")

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")


class Recorded(Service):
    """A service that writes each step it takes into ``log``."""

    def __init__(self, log: list[str], fail_at_start: bool = False) -> None:
        super().__init__("test", Readiness(READY))
        self.log = log
        self.fail_at_start = fail_at_start
        self.running = asyncio.Event()

    async def start(self, life: Lifecycle) -> None:
        await life.open(Client("producer", self.log))
        life.on_drain(self._step("flush"))
        await life.open(Client("consumer", self.log))
        life.on_drain(self._step("finish in-flight work"))
        life.spawn(self._consume(), "consume")
        if self.fail_at_start:
            raise RuntimeError("broken settings")
        self.readiness.set(KAFKA_CONNECTED, True)
        self.readiness.set(READY, True, "rebuilt")

    def _step(self, name: str) -> Callable[[], Awaitable[None]]:
        async def step() -> None:
            self.log.append(name)

        return step

    async def _consume(self) -> None:
        self.running.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.log.append("consume loop commits and ends")
            raise


SHUTDOWN = [
    "consume loop commits and ends",
    "finish in-flight work",
    "flush",
    "stop consumer",
    "stop producer",
]


async def test_a_service_starts_then_drains_then_stops_its_clients_latest_first() -> None:
    log: list[str] = []
    async with Recorded(log) as service:
        await asyncio.wait_for(service.running.wait(), 1)
        assert service.readiness.ready
        assert log == ["start producer", "start consumer"]
    assert log[2:] == SHUTDOWN
    assert not service.readiness.ready


async def test_a_start_that_fails_stops_what_it_had_begun() -> None:
    log: list[str] = []
    with pytest.raises(RuntimeError, match="broken settings"):
        async with Recorded(log, fail_at_start=True):
            raise AssertionError("a failed start must not run the body")
    assert log[:2] == ["start producer", "start consumer"]
    assert log[2:] == SHUTDOWN[1:]  # its task was cancelled before it ever ran


async def test_a_draining_service_is_not_ready_whatever_its_probes_say() -> None:
    async def broker_answers() -> Condition:
        return Condition(True, "broker answered")

    readiness = Readiness(READY, probes={KAFKA_CONNECTED: broker_answers})
    readiness.set(READY, True)
    status, _ = await readiness.body()
    assert status == 200
    readiness.stopping()
    readiness.set(READY, True, "a late task")
    status, body = await readiness.body()
    assert status == 503
    assert body["conditions"][KAFKA_CONNECTED] == {"ok": False, "detail": "stopping"}
    assert body["conditions"][READY] == {"ok": False, "detail": "stopping"}


async def test_sigterm_drains_and_stops_the_service_as_a_test_would() -> None:
    log: list[str] = []
    service = Recorded(log)
    running = asyncio.create_task(run_until_signalled(service))
    await asyncio.wait_for(service.running.wait(), 5)
    os.kill(os.getpid(), signal.SIGTERM)  # the handler is ours while it runs
    await asyncio.wait_for(running, 5)
    assert log[2:] == SHUTDOWN


async def test_a_second_shutdown_does_nothing() -> None:
    log: list[str] = []
    service = Recorded(log)
    async with service:
        await service.life.shutdown()
        stopped = list(log)
    assert log == stopped
