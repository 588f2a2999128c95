"""HTTP: acknowledgements (POST /v1/alerts/{id}/ack|cannot-act|resolved), a contact point's
inbox, and /healthz /readyz /metrics.

A contact point proves who it is with its API key (``Authorization: Bearer``) or with the signed
link from its e-mail (``?token=``), and may only answer alerts it was a recipient of.
"""

from __future__ import annotations

import functools
import html
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from aiokafka.errors import KafkaError
from fastapi import FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect

from schemas.notification import ANSWERS, Acknowledgement, RevocationKind
from services.common.errors import TransientError
from services.common.health import Readiness, health_router, metrics_router
from services.common.http_server import client_gone, metrics_allowed
from services.common.logging import get_logger
from services.common.settings import CommonSettings
from services.notifier import followup, metrics
from services.notifier.access_audit import Reader, listed
from services.notifier.console import views
from services.notifier.console.gate import ConsoleAccess
from services.notifier.console.routes import console_router
from services.notifier.console.web import HEADERS, audit_read, not_stored, read_body
from services.notifier.domain.signing import LinkClaim, read_link_token
from services.notifier.engine import Engine
from services.notifier.errors import AnswerNotStoredError
from services.notifier.i18n import language, translator
from services.notifier.outcome_api import outcome_router
from services.notifier.revocations import Revocations

log = get_logger(__name__)
FORM = "application/x-www-form-urlencoded"
RETRY_AFTER_S = 5  # a dependency away (the broker): ask again after this long


class AckBody(BaseModel):
    comment: Annotated[str, Field(max_length=4000)] | None = None


@dataclass(frozen=True)
class Access:
    """What the HTTP surface checks callers with, besides the directory's keys."""

    settings: CommonSettings
    revocations: Revocations
    console: ConsoleAccess


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    return None


def _link(engine: Engine, access: Access, alert_id: str, token: str) -> LinkClaim:
    """A genuine, unexpired, unused link for this alert, or 401."""
    claim = read_link_token(token, alert_id, engine.config.link_key, int(time.time()))
    if claim is None:
        raise HTTPException(401, "invalid or expired link", headers=HEADERS)
    if access.revocations.is_revoked(RevocationKind.LINK, claim.nonce):
        raise HTTPException(401, "this link was already used", headers=HEADERS)
    return claim


def _key_holder(engine: Engine, authorization: str | None) -> str:
    key = _bearer(authorization)
    cp = engine.directory().by_api_key(key) if key else None
    if cp is None:
        raise HTTPException(401, "a contact point key or signed link is required")
    return cp.id


def create_api(engine: Engine, readiness: Readiness, access: Access) -> FastAPI:
    app = FastAPI(title="notice-relay notifier", docs_url=None, redoc_url=None)
    app.add_exception_handler(ClientDisconnect, client_gone)
    app.add_exception_handler(TransientError, _unavailable)

    app.include_router(health_router(readiness))

    def pending() -> None:
        metrics.PENDING.set(engine.scheduler.pending)

    allowed = functools.partial(metrics_allowed, access.settings)
    app.include_router(metrics_router(allowed, refresh=pending))

    # Before the generic answer route below, which would take "outcome" for an action.
    app.include_router(outcome_router(engine, functools.partial(_key_holder, engine)))

    @app.post("/v1/alerts/{alert_id}/{action}")
    async def answer(
        alert_id: str,
        action: str,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        token: Annotated[str | None, Query()] = None,
    ) -> dict[str, Any]:
        kind = ANSWERS.get(action)
        if kind is None:
            raise HTTPException(404, "unknown action")
        body, token = await _body(request, token)
        claim = _link(engine, access, alert_id, token) if token else None
        if claim is not None and claim.action != action:
            raise HTTPException(403, f"this link may only {claim.action}", headers=HEADERS)
        who = claim.contact_point if claim else _key_holder(engine, authorization)
        # Closed alerts leave memory after a while: read back from the topic (authenticated
        # callers only, one scan at a time).
        await engine.recall(alert_id)
        if not engine.inbox.is_recipient(alert_id, who):
            raise HTTPException(403, "this contact point did not receive that alert")
        ack = Acknowledgement(
            alert_id=alert_id, kind=kind, contact_point=who, at=datetime.now(UTC),
            comment=body.comment,
        )  # fmt: skip
        await _answer_once(engine, access.revocations, ack, claim)
        return {"alert_id": alert_id, "kind": kind.value, "contact_point": who}

    @app.get("/v1/alerts/{alert_id}/ack", response_class=HTMLResponse)
    async def confirm_page(alert_id: str, token: Annotated[str, Query()]) -> HTMLResponse:
        # A GET never acknowledges (mail scanners follow links): it shows a button that POSTs.
        # The token goes in the form's body, not its URL; no referrer leaves the page.
        claim = _link(engine, access, alert_id, token)
        holder = engine.directory().get(claim.contact_point)  # its language, as its e-mail's
        lang = language(holder.language if holder else None)
        _ = translator(lang).gettext
        title, button = _("Alert {alert_id}").format(alert_id=alert_id), _("Acknowledge")
        page = (
            f"<!doctype html><html lang='{lang}'><body><p>{html.escape(title)}</p>"
            f"<form method='post' action=\"/v1/alerts/{html.escape(alert_id, quote=True)}/ack\">"
            f"<input type='hidden' name='token' value=\"{html.escape(token, quote=True)}\">"
            f"<button>{html.escape(button)}</button></form></body></html>"
        )
        return HTMLResponse(page, headers=HEADERS)

    @app.get("/v1/inbox")
    async def inbox(
        request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        """The alerts of the caller's country, as its console shows them (``views``)."""
        key = _bearer(authorization)
        if key is None:
            raise HTTPException(401, "a contact point key is required")
        cp = engine.directory().by_api_key(key)
        if cp is None:
            raise HTTPException(401, "unknown key")
        shown = [
            views.detail(v, cp.id, cp.country)
            for v in engine.inbox.for_country(cp.country)
            if views.visible(v, cp.country)
        ][: views.MAX_ROWS]
        reader = Reader.of(request, cp.id, "api")
        await audit_read(engine.writer, listed(reader, (a["alert_id"] for a in shown)))
        return {"country": cp.country, "alerts": shown}

    app.include_router(console_router(engine, access.console))
    return app


async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """A dependency is away (``TransientError``): the same request may succeed shortly."""
    assert isinstance(exc, TransientError)
    log.warning("notifier.request_unavailable", reason=exc.reason)
    detail = {"detail": "temporarily unavailable; send it again"}
    return JSONResponse(detail, 503, headers={**HEADERS, "Retry-After": str(RETRY_AFTER_S)})


async def _answer_once(
    engine: Engine, revocations: Revocations, ack: Acknowledgement, claim: LinkClaim | None
) -> None:
    """Store the answer; a link's nonce is claimed first (no second use, even concurrently)
    and written to the revocations topic after, so every replica refuses it again."""
    if claim is not None and not revocations.claim(RevocationKind.LINK, claim.nonce, claim.expires):
        raise HTTPException(401, "this link was already used", headers=HEADERS)
    try:
        await followup.answer(engine, ack)
    except AnswerNotStoredError as exc:
        if claim is not None:
            revocations.release(RevocationKind.LINK, claim.nonce)  # nothing was done: resend
        raise not_stored() from exc
    if claim is not None:
        try:
            await revocations.store(RevocationKind.LINK, claim.nonce, claim.expires)
        except KafkaError:
            log.warning("notifier.link_revocation_not_stored", alert_id=ack.alert_id)


async def _body(request: Request, token: str | None) -> tuple[AckBody, str | None]:
    """The comment (JSON), or the confirm page's form with its token; and the token."""
    raw = await read_body(request)
    if request.headers.get("content-type", "").startswith(FORM):
        fields = urllib.parse.parse_qs(raw.decode("latin-1"), max_num_fields=4)
        sent = fields.get("token", [None])[0]
        return AckBody(), sent or token
    if not raw.strip():
        return AckBody(), token
    try:
        return AckBody.model_validate_json(raw), token
    except ValueError as exc:
        raise HTTPException(422, 'body must be JSON like {"comment": "..."}') from exc
