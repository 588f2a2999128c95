"""HTTP handlers: thin. Read the body (bounded), authenticate, then domain -> publish -> answer."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPBearer
from starlette.routing import BaseRoute, Route

from schemas.errors import ErrorRecord
from schemas.outcomes import IngestOutcome
from services.common.http_server import BodyTooLarge, read_limited
from services.common.logging import get_logger
from services.ingest.api_models import (
    Accepted,
    BatchResult,
    Problem,
    request_body,
    security_requirements,
)
from services.ingest.domain.agencies import Agency
from services.ingest.domain.intake import Prepared, Rejection, accept, event_id_of
from services.ingest.domain.ratelimit import retry_after_header
from services.ingest.metrics import EVENTS, count_flag
from services.ingest.runtime import Runtime

log = get_logger(__name__)
router = APIRouter()
# The two event endpoints are served as plain Starlette routes (``_serve_plainly``): a FastAPI
# route resolves its parameters on every request, a measurable part of an event's CPU. Their
# FastAPI twins here only describe them in the OpenAPI document (``documented_routes``).
_described = APIRouter()
JSON = "application/json"


def _serve_plainly(path: str) -> None:
    """Serve the operation described at ``path`` as a plain route on ``router`` (same method)."""
    for route in _described.routes:
        if isinstance(route, APIRoute) and route.path == path:
            router.add_route(
                path, route.endpoint, methods=sorted(route.methods or ()), include_in_schema=False
            )


# Only documented (OpenAPI security schemes): ``authenticate`` reads the same headers.
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="The agency's API key")
SECURITY = security_requirements(_bearer, _api_key)


class HttpProblem(Exception):
    """Raised by handlers; rendered as a ``Problem`` body by the app's exception handler."""

    def __init__(
        self, status: int, title: str, *, errors: list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(title)
        self.problem = Problem(status=status, title=title, errors=errors or [])
        self.headers = headers or {}

    def response(self) -> Response:
        body = orjson.dumps(self.problem.model_dump(exclude_none=True))
        return Response(body, self.problem.status, self.headers, media_type=JSON)


def runtime(request: Request) -> Runtime:
    found: Runtime = request.app.state.runtime
    return found


def _key(request: Request) -> str | None:
    """The key of ``Authorization: Bearer`` or else ``X-API-Key``.

    An Authorization header that is present but not a bearer key is an authentication
    failure, even next to a good X-API-Key: two credentials that disagree are refused.
    """
    api_key = request.headers.get("x-api-key") or None
    authorization = request.headers.get("authorization")
    if authorization is None:
        return api_key
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    if api_key and api_key != credentials.strip():
        return None
    return credentials.strip()


def authenticate(request: Request) -> Agency:
    """401 unless the request carries a known key.

    Called first thing by the handlers rather than as a FastAPI dependency: resolving
    dependencies (and running a sync one in a worker thread) cost more CPU per request than
    the rest of the handler. The security schemes are documented via ``SECURITY`` instead.
    """
    agency = runtime(request).agencies.current().authenticate(_key(request))
    if agency is None:
        raise HttpProblem(401, "missing or unknown API key", headers={"WWW-Authenticate": "Bearer"})
    return agency


async def read_json(request: Request, limit: int) -> Any:
    """The parsed body; 413 past ``limit`` bytes (declared or actually sent), 422 if not JSON."""
    try:
        body = await read_limited(request, limit)
    except BodyTooLarge as exc:
        raise HttpProblem(413, str(exc)) from None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        error = {"field": "(body)", "rule": "json_invalid", "message": str(exc)[:200]}
        raise HttpProblem(422, "body is not valid JSON", errors=[error]) from None


def _rate_limit(rt: Runtime, agency: Agency, count: int) -> None:
    burst = rt.limiter.burst(agency)
    if count > burst:
        EVENTS.labels("http", "rate_limited").inc(count)
        message = (
            f"a batch of {count} events is larger than this agency's burst of {burst}: "
            f"send at most {burst} per request"
        )
        error = {"field": "events", "rule": "batch_exceeds_burst", "message": message}
        # No Retry-After: waiting never lets this batch through, only splitting it does.
        raise HttpProblem(429, "batch larger than the agency's burst", errors=[error])
    wait = rt.limiter.take(agency, count)
    if wait > 0:
        EVENTS.labels("http", "rate_limited").inc(count)
        raise HttpProblem(
            429, "rate limit exceeded", headers={"Retry-After": retry_after_header(wait)}
        )


def _unavailable(rt: Runtime, title: str) -> HttpProblem:
    return HttpProblem(503, title, headers={"Retry-After": str(rt.settings.ingest_retry_after_s)})


def _count_flags(item: Prepared) -> None:
    for flag in item.event.flags:
        count_flag(flag.field)


def _flags(item: Prepared) -> list[dict[str, str]]:
    """The event's flags as the response shows them (``FieldFlag``'s fields, in order)."""
    return [{"field": flag.field, "reason": flag.reason} for flag in item.event.flags]


RETRY_AFTER = {
    "description": "Whole seconds to wait before sending again (absent where waiting cannot help)",
    "schema": {"type": "integer", "minimum": 1},
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No or unknown API key"},
    413: {"model": Problem, "description": "Body over the size limit"},
    422: {"model": Problem, "description": "Invalid: every field at fault is named"},
    429: {
        "model": Problem,
        "description": "Rate limit of the agency exceeded (see Retry-After)",
        "headers": {"Retry-After": RETRY_AFTER},
    },
    503: {
        "model": Problem,
        "description": "Not stored (broker unavailable or overloaded); retry",
        "headers": {"Retry-After": RETRY_AFTER},
    },
}


@_described.post(
    "/v1/events",
    status_code=202,
    response_model=Accepted,
    responses={**_RESPONSES, 403: {"model": Problem, "description": "Agency may not report this"}},
    openapi_extra={**request_body("EventIn", "One event"), **SECURITY.operation},
    summary="Report one event",
    description="Validates, authorises and normalises one event and answers 202 only once the "
    "broker has stored it. Any 503 means the event may not be stored: send it again with the "
    "same event_id (resends never produce a second alert).",
)
async def post_event(request: Request) -> Response:
    agency = authenticate(request)
    rt = runtime(request)
    _rate_limit(rt, agency, 1)
    raw = await read_json(request, rt.settings.ingest_max_event_bytes)
    result = accept(raw, agency, dt.datetime.now(dt.UTC))
    if isinstance(result, Rejection):
        EVENTS.labels("http", _refused(result.status)).inc()
        title = "invalid event" if result.status == 422 else "forbidden"
        raise HttpProblem(result.status, title, errors=list(result.errors))
    if not rt.publisher.reserve(1):
        EVENTS.labels("http", IngestOutcome.UNAVAILABLE).inc()
        raise _unavailable(rt, "too many events in flight")
    [outcome] = await rt.publisher.publish([result], agency.id)
    EVENTS.labels("http", outcome.value).inc()
    if outcome is IngestOutcome.UNAVAILABLE:
        raise _unavailable(rt, "event not stored: broker unavailable")
    _count_flags(result)
    # The ``Accepted`` model's JSON, written directly (validating our own output cost CPU).
    body = {"event_id": result.event.event_id, "outcome": outcome.value, "flags": _flags(result)}
    return Response(orjson.dumps(body), 202, media_type=JSON)


_serve_plainly("/v1/events")


def _batch_items(raw: Any, batch_max: int) -> list[Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("events"), list):
        error = {"field": "events", "rule": "missing", "message": 'send {"events": [...]}'}
        raise HttpProblem(422, "invalid batch", errors=[error])
    extra = [key for key in raw if key != "events"]
    if extra:
        errors = [
            {"field": k, "rule": "extra_forbidden", "message": "unknown field"} for k in extra
        ]
        raise HttpProblem(422, "invalid batch", errors=errors)
    items: list[Any] = raw["events"]
    if not 1 <= len(items) <= batch_max:
        message = f"a batch holds 1 to {batch_max} events, not {len(items)}"
        error = {"field": "events", "rule": "batch_size", "message": message}
        raise HttpProblem(422, "invalid batch", errors=[error])
    return items


def _item(
    index: int, event_id: str | None, status: int, outcome: str, *,
    errors: list[ErrorRecord] | None = None, flags: list[dict[str, str]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """One ``ItemResult`` as its JSON object (fields in the model's order)."""
    return {
        "index": index, "event_id": event_id, "status": status, "outcome": outcome,
        "errors": [{"field": e["field"], "rule": e["rule"], "message": e["message"]}
                   for e in errors or ()],
        "flags": flags or [],
    }  # fmt: skip


def _rejected(index: int, raw: Any, rejection: Rejection) -> dict[str, Any]:
    outcome = _refused(rejection.status)
    return _item(index, event_id_of(raw), rejection.status, outcome, errors=rejection.errors)


def _refused(status: int) -> IngestOutcome:
    return IngestOutcome.REJECTED if status == 422 else IngestOutcome.FORBIDDEN


def _published(index: int, item: Prepared, outcome: IngestOutcome) -> dict[str, Any]:
    if outcome is IngestOutcome.UNAVAILABLE:
        return _item(index, item.event.event_id, 503, IngestOutcome.UNAVAILABLE)
    _count_flags(item)
    return _item(index, item.event.event_id, 202, outcome.value, flags=_flags(item))


def _count_outcomes(results: list[dict[str, Any]]) -> None:
    """One counter increment per outcome of the batch, not one per event."""
    counts = Counter(r["outcome"] for r in results)
    for outcome, count in counts.items():
        EVENTS.labels("http", outcome).inc(count)


def _batch_status(results: list[dict[str, Any]]) -> int:
    """503 if any may not be stored; 202 if all were; 207 if some; else 422 (or 403)."""
    statuses = {r["status"] for r in results}
    if 503 in statuses:
        return 503  # never a 2xx while an event of the batch may not be stored
    if statuses == {202}:
        return 202
    if 202 in statuses:
        return 207
    return 422 if 422 in statuses else 403


@_described.post(
    "/v1/events:batch",
    status_code=202,
    response_model=BatchResult,
    responses={
        **_RESPONSES,
        207: {"model": BatchResult, "description": "Some events rejected: see each result"},
        403: {"model": BatchResult, "description": "Every event forbidden for this agency"},
        422: {"model": BatchResult | Problem, "description": "Invalid batch, or every event"},
        429: {
            "model": Problem,
            "description": "Rate limit of the agency exceeded (see Retry-After), or the batch "
            "holds more events than the agency's burst (rule batch_exceeds_burst): split it",
            "headers": {"Retry-After": RETRY_AFTER},
        },
        503: {
            "model": BatchResult,
            "description": "Some events not stored: resend those",
            "headers": {"Retry-After": RETRY_AFTER},
        },
    },
    openapi_extra={
        **request_body("EventBatch", "Up to RELAY_INGEST_BATCH_MAX events"),
        **SECURITY.operation,
    },
    summary="Report many events at once",
    description="One result per event, in order. 202: all stored. 207: some rejected (403/422 "
    "per item), the rest stored. 422/403: none stored, all rejected. 503: some could not be "
    "stored (status 503 per item, with Retry-After); resend those. Each event of a batch costs "
    "the agency's rate limit as much as a single event; a batch larger than the agency's burst "
    "is refused whole with 429 (rule batch_exceeds_burst, no Retry-After): split it.",
)
async def post_batch(request: Request) -> Response:
    agency = authenticate(request)
    rt = runtime(request)
    raw = await read_json(request, rt.settings.ingest_max_batch_bytes)
    items = _batch_items(raw, rt.settings.ingest_batch_max)
    _rate_limit(rt, agency, len(items))
    now = dt.datetime.now(dt.UTC)
    results: dict[int, dict[str, Any]] = {}
    ready: list[tuple[int, Prepared]] = []
    for index, item in enumerate(items):
        result = accept(item, agency, now)
        if isinstance(result, Rejection):
            results[index] = _rejected(index, item, result)
        else:
            ready.append((index, result))
    _count_outcomes(list(results.values()))  # rejections count even if publishing fails
    if ready:
        prepared = [item for _, item in ready]
        if rt.publisher.reserve(len(prepared)):
            outcomes = await rt.publisher.publish(prepared, agency.id)
        else:
            outcomes = [IngestOutcome.UNAVAILABLE] * len(prepared)
        published = [_published(index, item, outcome)
                     for (index, item), outcome in zip(ready, outcomes, strict=True)]  # fmt: skip
        _count_outcomes(published)
        results.update((r["index"], r) for r in published)
    ordered = [results[i] for i in range(len(items))]
    accepted = sum(1 for r in ordered if r["status"] == 202)
    # The ``BatchResult`` model's JSON, written directly (see post_event).
    body = {"accepted": accepted, "rejected": len(ordered) - accepted, "results": ordered}
    status = _batch_status(ordered)
    headers = {"Retry-After": str(rt.settings.ingest_retry_after_s)} if status == 503 else None
    return Response(orjson.dumps(body), status, headers, media_type=JSON)


_serve_plainly("/v1/events:batch")


def documented_routes() -> list[BaseRoute]:
    """``router``'s routes for the OpenAPI document: plain event routes by their description."""
    described = {r.path: r for r in _described.routes if isinstance(r, APIRoute)}
    return [
        described[route.path] if isinstance(route, Route) and not route.include_in_schema
        else route
        for route in router.routes
    ]  # fmt: skip
