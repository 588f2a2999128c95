"""Liveness and readiness: ``/healthz`` (the process answers) and ``/readyz`` (it can work).

Usage::

    from services.common.health import KAFKA_CONNECTED, Readiness, health_router, ops_app

    readiness = Readiness("index_ready")        # kafka_connected is always a condition
    app.include_router(health_router(readiness))  # FastAPI services (ingest, notifier)
    ...
    readiness.set(KAFKA_CONNECTED, True)          # after the clients started
    readiness.set("index_ready", False, "catching up: 1200 records behind")

Services without an HTTP API (the matcher) run ``ops_app(readiness, metrics)`` under uvicorn on
their metrics port: it serves ``/metrics``, ``/healthz`` and ``/readyz`` together.

``/readyz`` answers 200 when every condition holds and 503 otherwise, with the conditions
and their details as JSON, so Kubernetes and docker-compose health checks can use it as is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.common.metrics import Metrics

KAFKA_CONNECTED = "kafka_connected"


@dataclass(frozen=True)
class Condition:
    ok: bool
    detail: str = ""


class Readiness:
    """Named conditions, all of which must hold for the service to be ready."""

    def __init__(self, *conditions: str) -> None:
        self._lock = threading.Lock()  # set from the event loop, read from a metrics thread
        self._conditions = {
            name: Condition(False, "not yet") for name in (KAFKA_CONNECTED, *conditions)
        }

    def set(self, name: str, ok: bool, detail: str = "") -> None:
        if name not in self._conditions:
            raise KeyError(f"unknown readiness condition {name!r}")
        with self._lock:
            self._conditions[name] = Condition(ok, detail)

    @property
    def ready(self) -> bool:
        with self._lock:
            return all(c.ok for c in self._conditions.values())

    def snapshot(self) -> dict[str, dict[str, bool | str]]:
        with self._lock:
            return {n: {"ok": c.ok, "detail": c.detail} for n, c in self._conditions.items()}


# Extra figures a service adds to its /readyz body (the matcher: its watchlist size).
Facts = Callable[[], dict[str, Any]]


def health_router(readiness: Readiness, facts: Facts | None = None) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        ready = readiness.ready
        body = {"ready": ready, "conditions": readiness.snapshot(), **(facts() if facts else {})}
        return JSONResponse(body, status_code=200 if ready else 503)

    return router


def ops_app(
    readiness: Readiness,
    metrics: Metrics,
    facts: Facts | None = None,
    allowed: Callable[[str | None], bool] = lambda _authorization: True,
) -> FastAPI:
    """``/metrics``, ``/healthz`` and ``/readyz`` for a service without an HTTP API;
    ``allowed`` decides a scrape by its Authorization header (``http_server.metrics_allowed``)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(health_router(readiness, facts))

    @app.get("/metrics", include_in_schema=False)
    async def scrape(authorization: Annotated[str | None, Header()] = None) -> Response:
        if not allowed(authorization):
            return Response("a metrics token is required", 401)
        body = generate_latest(metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return app
