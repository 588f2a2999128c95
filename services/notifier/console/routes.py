"""The console's HTTP surface, mounted under /console by ``services.notifier.api``.

Every request is checked on its own, never trusting the page (``gate``): the officer's session,
role and country, the alert's dissemination, and for changes a CSRF token header, a JSON body
and a same-origin ``Origin``. Actions go through the notifier's own acknowledgement path, so
they are audited under the officer's name and stop escalation like an API ack. Sign-in lives
in ``signin``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from schemas.notification import ANSWERS, Acknowledgement, AuditAction
from services.common.logging import get_logger
from services.notifier import access_audit, i18n
from services.notifier.access_audit import ANONYMOUS, Reader
from services.notifier.console import views
from services.notifier.console.audit_view import audit_routes
from services.notifier.console.gate import ConsoleAccess, Gate
from services.notifier.console.leads import leads_router
from services.notifier.console.outcomes import outcome_routes
from services.notifier.console.principal import INBOX_ROLES, Principal
from services.notifier.console.signin import session_routes
from services.notifier.console.supervision import supervision_routes
from services.notifier.console.web import (
    HEADERS,
    VIA,
    audit_read,
    deny,
    not_stored,
    read_body,
    read_json,
    reply,
)
from services.notifier.engine import Engine
from services.notifier.errors import AnswerNotStoredError, AuditNotStoredError
from services.notifier.followup import answer

# re-exported: the console's other route modules take these from here or from ``web``
__all__ = [
    "HEADERS", "VIA", "audit_read", "console_router", "deny", "not_stored", "read_body", "reply",
]  # fmt: skip
log = get_logger(__name__)

STATIC = Path(__file__).parent / "static"
FILES = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "words.js": "text/javascript; charset=utf-8",
    "leads.js": "text/javascript; charset=utf-8",
    "leads.css": "text/css; charset=utf-8",
    "suppressions.js": "text/javascript; charset=utf-8",
}
POLL_S = 0.25  # how often the live stream looks at the inbox
KEEPALIVE_S = 15.0
STREAM_MAX_S = 300.0  # the browser reconnects by itself; the session is re-read on each poll


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: Annotated[StrictStr, Field(min_length=1, max_length=4000, pattern=r"\S")]


def console_router(engine: Engine, access: ConsoleAccess) -> APIRouter:
    router = APIRouter(prefix="/console", include_in_schema=False)
    gate = Gate(engine, access)
    _pages(router)
    session_routes(router, gate)
    supervision_routes(router, gate)
    audit_routes(router, gate)
    outcome_routes(router, gate)  # before the generic answer route: it takes /outcome
    _alert_routes(router, gate)
    if access.leads is not None:
        router.include_router(leads_router(gate, access.leads, engine.writer))

    @router.get("/api/stream")
    async def stream(request: Request) -> StreamingResponse:
        gate.inbox(request)  # refused before the stream starts; re-checked on every poll
        headers = {**HEADERS, "X-Accel-Buffering": "no"}
        return StreamingResponse(
            _events(gate, request), media_type="text/event-stream", headers=headers
        )

    return router


def _pages(router: APIRouter) -> None:
    index = (STATIC / "index.html").read_bytes()
    files = {name: (STATIC / name).read_bytes() for name in FILES}

    @router.get("")
    async def bare() -> RedirectResponse:
        return RedirectResponse("/console/", 308, headers=HEADERS)

    @router.get("/")
    async def page() -> Response:
        return Response(index, headers=HEADERS, media_type="text/html; charset=utf-8")

    @router.get("/static/{name}")
    async def static(name: str) -> Response:
        if name not in files:
            raise deny(404, "not found")
        return Response(files[name], headers=HEADERS, media_type=FILES[name])

    @router.get("/i18n/{lang}")
    async def words(lang: str) -> Response:
        """The console's words in one language, from the gettext catalogue (no personal data)."""
        return reply(i18n.catalogue(lang))


def _snapshot(gate: Gate, who: Principal) -> dict[str, Any]:
    rows = views.rows(gate.engine.inbox.for_country(who.country), who.contact_point, who.country)
    return {"now": datetime.now(UTC).isoformat(), "country": who.country, "alerts": rows}


def _alert_routes(router: APIRouter, gate: Gate) -> None:
    @router.get("/api/alerts")
    async def listing(
        request: Request, list: str | None = None, band: str | None = None,
        state: str | None = None,
    ) -> Response:  # fmt: skip
        who = gate.inbox(request)
        snapshot = _snapshot(gate, who)
        wanted = {"list": list, "band": band, "state": state}
        snapshot["alerts"] = [
            r
            for r in snapshot["alerts"]
            if all(v is None or r.get(k) == v for k, v in wanted.items())
        ]
        shown = [row["alert_id"] for row in snapshot["alerts"]]
        await audit_read(
            gate.engine.writer, access_audit.listed(Reader.of(request, who.actor, VIA), shown)
        )
        return reply(snapshot)

    @router.get("/api/alerts/{alert_id}")
    async def one(alert_id: str, request: Request) -> Response:
        who = gate.inbox(request)
        view = gate.alert(alert_id, who)
        opened = Reader.of(request, who.actor, VIA).record(AuditAction.OPENED, alert_id)
        await audit_read(gate.engine.writer, opened)
        shown = views.detail(view, who.contact_point, who.country)
        return reply({"now": datetime.now(UTC).isoformat(), **shown})

    @router.post("/api/alerts/{alert_id}/{action}")
    async def act(alert_id: str, action: str, request: Request) -> Response:
        _, who = gate.change(request, *INBOX_ROLES)
        kind = ANSWERS.get(action)
        if kind is None:
            raise deny(404, "unknown action")
        view = gate.alert(alert_id, who)
        if who.contact_point not in view.recipients:
            raise deny(403, "this contact point did not receive that alert")
        body = await read_json(request, Answer)
        ack = Acknowledgement(
            alert_id=alert_id, kind=kind, contact_point=who.contact_point, at=datetime.now(UTC),
            comment=body.comment.strip(), answered_by=who.actor,
        )  # fmt: skip
        try:
            await answer(gate.engine, ack)
        except AnswerNotStoredError as exc:
            raise not_stored() from exc
        log.info("console.answered", alert_id=alert_id, account=who.account, kind=kind.value)
        return reply(views.detail(view, who.contact_point, who.country))


async def _events(gate: Gate, request: Request) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    started = time.monotonic()
    reader = Reader.of(request, ANONYMOUS, VIA)  # named by each poll's session below
    last: int | None = None
    quiet = 0.0
    while time.monotonic() - started < STREAM_MAX_S and not await request.is_disconnected():
        try:
            who = gate.inbox(request)
        except HTTPException:
            yield "event: signed-out\ndata: {}\n\n"
            return
        reader = Reader(who.actor, VIA, reader.client)
        mark = views.fingerprint(gate.engine.inbox.for_country(who.country), who.country)
        if mark != last:
            snapshot = _snapshot(gate, who)
            shown = [row["alert_id"] for row in snapshot["alerts"]]
            try:
                await access_audit.stored(gate.engine.writer, access_audit.listed(reader, shown))
            except AuditNotStoredError:
                yield "event: unaudited\ndata: {}\n\n"  # nothing shown; the browser retries
                return
            last, quiet = mark, 0.0
            data = json.dumps(snapshot, ensure_ascii=False, separators=(",", ":"))
            yield f"event: inbox\ndata: {data}\n\n"
        elif quiet >= KEEPALIVE_S:
            quiet = 0.0
            yield ": keep-alive\n\n"
        await asyncio.sleep(POLL_S)
        quiet += POLL_S
