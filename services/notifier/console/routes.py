"""The console's HTTP surface, mounted under /console by ``services.notifier.api``.

Every request is checked on its own, never trusting the page: the session cookie (signed, tied to
the contact point's current key), the viewer's country and the alert's dissemination, and for
changes a CSRF token header, a JSON body and a same-origin ``Origin``. Actions go through the
notifier's own acknowledgement path, so they are audited and stop escalation like an API ack.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from aiokafka.errors import KafkaError
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from schemas.notification import (
    ANSWERS,
    Acknowledgement,
    AuditAction,
    AuditRecord,
    RevocationKind,
)
from services.common.http_server import BodyTooLarge, read_limited
from services.common.logging import get_logger
from services.notifier import access_audit
from services.notifier.access_audit import ANONYMOUS, Reader
from services.notifier.console import session as sessions
from services.notifier.console import views
from services.notifier.console.session import COOKIE, CSRF_HEADER, Session, SessionKeys
from services.notifier.domain.directory import ContactPoint
from services.notifier.domain.inbox import AlertView
from services.notifier.engine import Engine
from services.notifier.errors import AnswerNotStoredError, AuditNotStoredError
from services.notifier.followup import acknowledge
from services.notifier.revocations import Revocations
from services.notifier.writer import Writer

log = get_logger(__name__)

STATIC = Path(__file__).parent / "static"
FILES = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "require-trusted-types-for 'script'; trusted-types 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
POLL_S = 0.25  # how often the live stream looks at the inbox
KEEPALIVE_S = 15.0
MAX_BODY = 16_384  # a sign-in or an answer: a 4,000-character comment with room to spare
STREAM_MAX_S = 300.0  # the browser reconnects by itself; the session is re-read on each poll
VIA = "console"  # how a read came, in its audit record


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Annotated[StrictStr, Field(min_length=1, max_length=500)]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: Annotated[StrictStr, Field(min_length=1, max_length=4000, pattern=r"\S")]


def deny(status: int, detail: str) -> HTTPException:
    return HTTPException(status, detail, headers=HEADERS)


def not_stored() -> HTTPException:
    """The answer was taken but is not stored yet (the broker is away): send it again."""
    retry = str(AnswerNotStoredError.retry_after_s)
    detail = "the answer could not be stored yet; send it again"
    return HTTPException(503, detail, headers={**HEADERS, "Retry-After": retry})


def unaudited() -> HTTPException:
    """Personal data is shown only once its read is audited, and that could not be stored."""
    retry = str(AuditNotStoredError.retry_after_s)
    detail = "this read could not be audited yet; try again"
    return HTTPException(503, detail, headers={**HEADERS, "Retry-After": retry})


async def audit_read(writer: Writer, record: AuditRecord) -> None:
    """``access_audit.stored``, answered as 503 when the record cannot be stored."""
    try:
        await access_audit.stored(writer, record)
    except AuditNotStoredError as exc:
        raise unaudited() from exc


def reply(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status, headers=HEADERS, media_type="application/json")


class Gate:
    """Who is asking, and may they: answered afresh on every request."""

    def __init__(self, engine: Engine, keys: SessionKeys, revocations: Revocations) -> None:
        self.engine = engine
        self.keys = keys
        self.revocations = revocations
        self.secure = engine.config.public_url.startswith("https://")
        self.throttle = sessions.SignInThrottle()

    def session(self, request: Request) -> tuple[Session, ContactPoint]:
        found = sessions.read(self.keys, request.cookies.get(COOKIE), int(time.time()))
        if found is None or self.revocations.is_revoked(RevocationKind.SESSION, found.nonce):
            raise deny(401, "sign in first")
        cp = self.engine.directory().get(found.contact_point)
        if (
            cp is None
            or cp.api_key_sha256 is None  # no key, no session: nothing to tie it to
            or sessions.key_fingerprint(cp.api_key_sha256) != found.key_fp
        ):
            raise deny(401, "the session ended: sign in again")
        return found, cp

    def change(self, request: Request) -> tuple[Session, ContactPoint]:
        """A state-changing request: signed in, same origin, JSON, with the CSRF header."""
        found, cp = self.session(request)
        origin = request.headers.get("origin")
        if origin is not None and origin != _origin_of(request):
            raise deny(403, "cross-origin request")
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise deny(415, "send JSON")
        if not sessions.csrf_ok(self.keys, found, request.headers.get(CSRF_HEADER)):
            raise deny(403, "missing or wrong CSRF token")
        return found, cp

    def alert(self, alert_id: str, cp: ContactPoint) -> AlertView:
        view = self.engine.inbox.alerts.get(alert_id)
        if view is None or not views.visible(view, cp.country):
            raise deny(404, "no such alert for this country")  # the same answer for both
        return view

    def whoami(self, found: Session, cp: ContactPoint) -> dict[str, Any]:
        return {
            "contact_point": cp.id,
            "name": cp.name,
            "country": cp.country,
            "csrf": sessions.csrf_token(self.keys, found),
            "expires_at": datetime.fromtimestamp(found.expires(self.keys), UTC).isoformat(),
        }


def _origin_of(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    try:
        return await read_limited(request, limit)
    except BodyTooLarge as exc:
        raise deny(413, str(exc)) from None


async def _json(request: Request, model: type[SignIn] | type[Answer]) -> Any:
    try:
        return model.model_validate_json(await read_body(request))
    except ValidationError as exc:
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
        raise deny(422, f"invalid request body: {', '.join(fields) or 'JSON'}") from exc


def console_router(engine: Engine, keys: SessionKeys, revocations: Revocations) -> APIRouter:
    router = APIRouter(prefix="/console", include_in_schema=False)
    gate = Gate(engine, keys, revocations)
    _pages(router)
    _session_routes(router, gate)
    _alert_routes(router, gate)

    @router.get("/api/stream")
    async def stream(request: Request) -> StreamingResponse:
        gate.session(request)  # refused before the stream starts; re-checked on every poll
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


def _session_routes(router: APIRouter, gate: Gate) -> None:
    @router.post("/api/session")
    async def sign_in(request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise deny(415, "send JSON")
        client = request.client.host if request.client else "?"
        if gate.throttle.blocked(client, time.monotonic()):
            raise deny(429, "too many failed sign-ins: wait a minute")
        body: SignIn = await _json(request, SignIn)
        cp = gate.engine.directory().by_api_key(body.key)
        if cp is None or cp.api_key_sha256 is None:
            gate.throttle.failed(client, time.monotonic())
            log.warning("console.sign_in_refused")
            refused = Reader(ANONYMOUS, VIA, client).record(AuditAction.SIGN_IN_REFUSED)
            access_audit.written(gate.engine.writer, refused)
            raise deny(401, "unknown key")
        now = int(time.time())
        cookie = sessions.issue(gate.keys, cp.id, cp.api_key_sha256, now)
        found = sessions.read(gate.keys, cookie, now)
        assert found is not None  # just issued
        await audit_read(
            gate.engine.writer, Reader(cp.id, VIA, client).record(AuditAction.SIGNED_IN)
        )
        response = reply(gate.whoami(found, cp))
        response.set_cookie(
            COOKIE, cookie, max_age=gate.keys.ttl_s, path="/console",
            httponly=True, samesite="strict", secure=gate.secure,
        )  # fmt: skip
        log.info("console.signed_in", contact_point=cp.id)
        return response

    @router.get("/api/session")
    async def who(request: Request) -> Response:
        return reply(gate.whoami(*gate.session(request)))

    @router.post("/api/session/end")
    async def sign_out(request: Request) -> Response:
        found, cp = gate.change(request)
        # Refused by every replica from now on, not only forgotten by this browser.
        gate.revocations.claim(RevocationKind.SESSION, found.nonce, found.expires(gate.keys))
        try:
            await gate.revocations.store(
                RevocationKind.SESSION, found.nonce, found.expires(gate.keys)
            )
        except KafkaError as exc:
            gate.revocations.release(RevocationKind.SESSION, found.nonce)
            raise not_stored() from exc
        log.info("console.signed_out", contact_point=cp.id)
        signed_out = Reader.of(request, cp.id, VIA).record(AuditAction.SIGNED_OUT)
        access_audit.written(gate.engine.writer, signed_out)
        response = reply({"signed_out": True})
        response.delete_cookie(COOKIE, path="/console", httponly=True, samesite="strict")
        return response


def _snapshot(gate: Gate, cp: ContactPoint) -> dict[str, Any]:
    rows = views.rows(gate.engine.inbox.for_country(cp.country), cp.id, cp.country)
    return {"now": datetime.now(UTC).isoformat(), "country": cp.country, "alerts": rows}


def _alert_routes(router: APIRouter, gate: Gate) -> None:
    @router.get("/api/alerts")
    async def listing(
        request: Request, list: str | None = None, band: str | None = None,
        state: str | None = None,
    ) -> Response:  # fmt: skip
        _, cp = gate.session(request)
        snapshot = _snapshot(gate, cp)
        wanted = {"list": list, "band": band, "state": state}
        snapshot["alerts"] = [
            r
            for r in snapshot["alerts"]
            if all(v is None or r.get(k) == v for k, v in wanted.items())
        ]
        shown = [row["alert_id"] for row in snapshot["alerts"]]
        await audit_read(
            gate.engine.writer, access_audit.listed(Reader.of(request, cp.id, VIA), shown)
        )
        return reply(snapshot)

    @router.get("/api/alerts/{alert_id}")
    async def one(alert_id: str, request: Request) -> Response:
        _, cp = gate.session(request)
        view = gate.alert(alert_id, cp)
        opened = Reader.of(request, cp.id, VIA).record(AuditAction.OPENED, alert_id)
        await audit_read(gate.engine.writer, opened)
        return reply(
            {"now": datetime.now(UTC).isoformat(), **views.detail(view, cp.id, cp.country)}
        )

    @router.post("/api/alerts/{alert_id}/{action}")
    async def act(alert_id: str, action: str, request: Request) -> Response:
        _, cp = gate.change(request)
        kind = ANSWERS.get(action)
        if kind is None:
            raise deny(404, "unknown action")
        view = gate.alert(alert_id, cp)
        if cp.id not in view.recipients:
            raise deny(403, "this contact point did not receive that alert")
        body: Answer = await _json(request, Answer)
        ack = Acknowledgement(
            alert_id=alert_id, kind=kind, contact_point=cp.id, at=datetime.now(UTC),
            comment=body.comment.strip(),
        )  # fmt: skip
        try:
            await acknowledge(gate.engine, ack)
        except AnswerNotStoredError as exc:
            raise not_stored() from exc
        log.info("console.answered", alert_id=alert_id, contact_point=cp.id, kind=kind.value)
        return reply(views.detail(view, cp.id, cp.country))


async def _events(gate: Gate, request: Request) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    started = time.monotonic()
    reader = Reader.of(request, ANONYMOUS, VIA)  # named by each poll's session below
    last: int | None = None
    quiet = 0.0
    while time.monotonic() - started < STREAM_MAX_S and not await request.is_disconnected():
        try:
            _, cp = gate.session(request)
        except HTTPException:
            yield "event: signed-out\ndata: {}\n\n"
            return
        reader = Reader(cp.id, VIA, reader.client)
        mark = views.fingerprint(gate.engine.inbox.for_country(cp.country), cp.country)
        if mark != last:
            snapshot = _snapshot(gate, cp)
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
