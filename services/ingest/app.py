"""Wiring only: the producer, the raw intake task, the HTTP app, and its lifespan on the shared
lifecycle (``services.common.lifecycle``)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from starlette.requests import ClientDisconnect

from services.common import gcpolicy
from services.common.consume import ConsumeLoop
from services.common.fate import FateWrapper
from services.common.health import (
    KAFKA_CONNECTED,
    Readiness,
    broker_probe,
    health_router,
    metrics_router,
)
from services.common.http_server import client_gone, metrics_allowed
from services.common.kafka import make_consumer, make_producer
from services.common.lag import report_lag
from services.common.lifecycle import Lifecycle, Service
from services.common.logging import get_logger
from services.ingest import metrics
from services.ingest.agencies_file import AgenciesFile
from services.ingest.api_models import event_input_schemas
from services.ingest.domain.recent import RecentIds
from services.ingest.handlers import SECURITY, HttpProblem, documented_routes, router
from services.ingest.middleware import RequestMetrics
from services.ingest.publisher import Publisher
from services.ingest.raw import RawIntake, signature_window
from services.ingest.runtime import Limiter, Runtime
from services.ingest.settings import IngestSettings

log = get_logger(__name__)

DESCRIPTION = """Border agencies report border crossings and document checks here.

Authenticate with `Authorization: Bearer <key>` or `X-API-Key: <key>`. An event is answered
202 only once Kafka has stored it; 503 means it may not be stored, so send it again with the
same `event_id` (a resend never produces a second alert). 429 and 503 carry Retry-After, except
the 429 for a batch larger than the agency's burst (rule `batch_exceeds_burst`): split that one.
"""
# Swagger UI's and ReDoc's files, served from the installed package: /docs and /redoc must work
# on networks that reach no CDN.
DOCS_STATIC_URL = "/docs/static"


async def _run_raw_intake(settings: IngestSettings, intake: RawIntake) -> None:
    consumer = make_consumer(
        settings, settings.topic("ingest.raw"), group_id=settings.group(settings.ingest_raw_group)
    )
    await consumer.start()
    try:
        fate = FateWrapper("ingest", intake.publisher.producer, settings.topic("ingest.raw.dlq"))
        await ConsumeLoop(consumer, fate, intake.handle).run()
    finally:
        await consumer.stop()


class IngestService(Service):
    """The producer, the publisher and the raw intake of one app, on the shared lifecycle;
    uvicorn's lifespan runs it (``lifespan``)."""

    def __init__(self, app: FastAPI) -> None:
        super().__init__("ingest", app.state.readiness)
        self.app = app

    async def start(self, life: Lifecycle) -> None:
        settings: IngestSettings = self.app.state.settings
        agencies = AgenciesFile.open(settings.ingest_agencies_file)
        # The delivery timeout matches the send timeout: a 503'd event is not retried for long.
        # No linger: a sender waits for the ack, and concurrent requests batch up anyway while
        # the previous produce request is in flight. Stopping it flushes: what was acknowledged
        # stays acknowledged.
        timeout_ms = int(settings.ingest_send_timeout_s * 1000)
        producer = await life.open(
            make_producer(settings, request_timeout_ms=timeout_ms, linger_ms=0)
        )
        publisher = Publisher(producer, settings, RecentIds(settings.ingest_recent_ids))
        await publisher.start()
        life.on_drain(publisher.flush)
        rt = Runtime(settings, agencies, Limiter(settings), publisher)
        broker = broker_probe(producer, settings.ingest_ready_cache_s)
        self.readiness.watch(KAFKA_CONNECTED, broker)
        if settings.ingest_raw_enabled:
            intake = RawIntake(agencies, publisher, signature_window(settings))
            rt.raw_task = life.spawn(_run_raw_intake(settings, intake), "raw-intake")
            group = settings.group(settings.ingest_raw_group)
            lag = report_lag(settings, group, [settings.topic("ingest.raw")], metrics.set_lag)
            life.spawn(lag, "consumer-lag")
        self.app.state.runtime = rt
        if self.app.state.settle_heap:
            gcpolicy.settle_service_heap()
            life.spawn(gcpolicy.collect_periodically("ingest"), "gc")
        log.info("ingest.started", agencies=len(agencies.directory.agencies))


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with IngestService(app):
        yield


def _openapi(app: FastAPI, settings: IngestSettings, health: APIRouter) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            # This app's own routes (/metrics) follow the router's, as when it was included.
            routes=[*documented_routes(), *health.routes, *_own_routes(app)],
        )
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {}).update(event_input_schemas(settings.ingest_batch_max))
        components.setdefault("securitySchemes", {}).update(SECURITY.schemes)
        app.openapi_schema = schema
    return app.openapi_schema


def _facts(app: FastAPI) -> dict[str, str]:
    runtime: Runtime | None = getattr(app.state, "runtime", None)
    return {"raw_intake": runtime.raw_state() if runtime else "starting"}


def _own_routes(app: FastAPI) -> list[APIRoute]:
    """Routes declared on the app itself (/metrics); included routers are listed apart."""
    return [route for route in app.routes if isinstance(route, APIRoute)]


def create_app(settings: IngestSettings, *, settle_heap: bool = False) -> FastAPI:
    """``settle_heap``: apply the service process's GC policy at start-up (``gcpolicy``)."""
    app = FastAPIOffline(
        title="notice-relay ingest",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        static_url=DOCS_STATIC_URL,
        # Swagger UI's default would send the document to validator.swagger.io for a badge.
        swagger_ui_parameters={"validatorUrl": None},
    )
    app.state.settings = settings
    app.state.settle_heap = settle_heap
    app.state.readiness = readiness = Readiness()
    app.include_router(router)
    health = health_router(readiness, lambda: _facts(app), documented=True)
    app.include_router(health)
    app.add_middleware(RequestMetrics)

    async def problem(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HttpProblem)
        return exc.response()

    app.add_exception_handler(HttpProblem, problem)
    app.add_exception_handler(ClientDisconnect, client_gone)
    allowed = functools.partial(metrics_allowed, settings)
    app.include_router(metrics_router(allowed, documented=True))

    app.openapi = lambda: _openapi(app, settings, health)  # type: ignore[method-assign]
    return app
