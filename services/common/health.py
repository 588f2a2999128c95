"""Liveness and readiness: ``/healthz`` (the process answers) and ``/readyz`` (it can work).

One ``Readiness`` and one ``/readyz`` body for every service::

    readiness = Readiness("index_ready", probes={KAFKA_CONNECTED: broker_probe(producer, 1.0)})
    app.include_router(health_router(readiness))  # FastAPI services (ingest, notifier)
    readiness.set("index_ready", False, "catching up: 1200 records behind")

Services without an HTTP API (the matcher) run ``ops_app(readiness, metrics)`` under uvicorn on
their metrics port: it serves ``/metrics``, ``/healthz`` and ``/readyz`` together; the others
include ``metrics_router`` in their own app.

``/readyz`` answers 200 when every condition holds and 503 otherwise, with the conditions and
their details as JSON (``ReadyBody``), so Kubernetes and docker-compose health checks can use it
as is. A condition is set by the service as it starts, or asked (a probe) on each request.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from pydantic import BaseModel, ConfigDict

from services.common.metrics import Metrics

KAFKA_CONNECTED = "kafka_connected"


@dataclass(frozen=True)
class Condition:
    ok: bool
    detail: str = ""


# Asked on each /readyz (it caches its own answer if asking is dear: ``broker_probe``).
Probe = Callable[[], Awaitable[Condition]]
# Extra figures a service adds to its /readyz body (the matcher: its watchlist size).
Facts = Callable[[], dict[str, Any]]


class ConditionBody(BaseModel):
    ok: bool
    detail: str


class ReadyBody(BaseModel):
    """What ``/readyz`` answers, in every service (plus the service's facts)."""

    model_config = ConfigDict(extra="allow")

    ready: bool
    conditions: dict[str, ConditionBody]


class Readiness:
    """Named conditions, all of which must hold for the service to be ready."""

    def __init__(self, *conditions: str, probes: Mapping[str, Probe] | None = None) -> None:
        self._lock = threading.Lock()  # set from the event loop, read from a metrics thread
        self._probes = dict(probes or {})
        names = dict.fromkeys((KAFKA_CONNECTED, *conditions, *self._probes))
        self._conditions = {name: Condition(False, "not yet") for name in names}
        self._stopping = False

    def watch(self, name: str, probe: Probe) -> None:
        """Answer condition ``name`` by asking ``probe`` (once what it asks exists)."""
        self.set(name, False, "not yet")
        self._probes[name] = probe

    def set(self, name: str, ok: bool, detail: str = "") -> None:
        if name not in self._conditions:
            raise KeyError(f"unknown readiness condition {name!r}")
        with self._lock:
            if not self._stopping:
                self._conditions[name] = Condition(ok, detail)

    def stopping(self) -> None:
        """The service is draining: every condition fails from now on, the probes unasked."""
        with self._lock:
            self._stopping = True
            self._conditions = {name: Condition(False, "stopping") for name in self._conditions}

    async def check(self) -> bool:
        """Ask the probes, then answer whether every condition holds."""
        for name, probe in list(self._probes.items()):
            if self._stopping:
                break
            found = await probe()
            self.set(name, found.ok, found.detail)  # ignored once stopping
        return self.ready

    @property
    def ready(self) -> bool:
        with self._lock:
            return all(c.ok for c in self._conditions.values())

    def snapshot(self) -> dict[str, dict[str, bool | str]]:
        with self._lock:
            return {n: {"ok": c.ok, "detail": c.detail} for n, c in self._conditions.items()}

    async def body(self, facts: Facts | None = None) -> tuple[int, dict[str, Any]]:
        """The /readyz status code and body (``ReadyBody``)."""
        ready = await self.check()
        body = {"ready": ready, "conditions": self.snapshot(), **(facts() if facts else {})}
        return (200 if ready else 503), body


def broker_probe(producer: AIOKafkaProducer, ttl_s: float, timeout_s: float = 2.0) -> Probe:
    """Is the broker reachable? A metadata request, its answer trusted for ``ttl_s``; one
    request at a time, however many callers ask."""
    lock = asyncio.Lock()
    last: list[tuple[float, Condition]] = [(float("-inf"), Condition(False, "not yet"))]

    async def probe() -> Condition:
        async with lock:
            at, known = last[0]
            if time.monotonic() - at < ttl_s:
                return known
            try:
                await asyncio.wait_for(producer.client.fetch_all_metadata(), timeout_s)
            except (KafkaError, TimeoutError, OSError) as exc:
                known = Condition(False, f"broker unreachable ({type(exc).__name__})")
            else:
                known = Condition(True, "broker answered")
            last[0] = (time.monotonic(), known)
            return known

    return probe


def health_router(
    readiness: Readiness, facts: Facts | None = None, *, documented: bool = False
) -> APIRouter:
    """``documented``: list both routes in the service's OpenAPI document (ingest's API)."""
    router = APIRouter()

    @router.get("/healthz", include_in_schema=documented, summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        include_in_schema=documented,
        response_model=ReadyBody,
        responses={503: {"model": ReadyBody, "description": "Not ready: a condition fails"}},
        summary="Readiness: every condition holds (the broker answers, state is rebuilt)",
    )
    async def readyz() -> JSONResponse:
        status, body = await readiness.body(facts)
        return JSONResponse(body, status_code=status)

    return router


def metrics_router(
    allowed: Callable[[str | None], bool],
    registry: CollectorRegistry = REGISTRY,
    *,
    documented: bool = False,
    refresh: Callable[[], None] | None = None,
) -> APIRouter:
    """Every service's ``/metrics``: ``registry`` in Prometheus' text format. ``allowed`` decides a
    scrape by its Authorization header (``http_server.metrics_allowed``); ``refresh`` sets
    gauges read on demand; ``documented``: listed in the service's OpenAPI document."""
    router = APIRouter()

    @router.get(
        "/metrics",
        include_in_schema=documented,
        summary="Prometheus metrics",
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def scrape(request: Request) -> Response:
        if not allowed(request.headers.get("authorization")):
            return Response("a metrics token is required", 401)
        if refresh is not None:
            refresh()
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


def ops_app(
    readiness: Readiness,
    metrics: Metrics,
    facts: Facts | None = None,
    allowed: Callable[[str | None], bool] = lambda _authorization: True,
) -> FastAPI:
    """``/metrics``, ``/healthz`` and ``/readyz`` for a service without an HTTP API."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(health_router(readiness, facts))
    app.include_router(metrics_router(allowed, metrics.registry))
    return app
