"""HTTP: acknowledgements (POST /v1/alerts/{id}/ack|cannot-act|resolved), a contact point's
inbox, and /healthz /readyz /metrics.

A contact point proves who it is with its API key (``Authorization: Bearer``) or with the signed
link from its e-mail (``?token=``), and may only answer alerts it was a recipient of.
"""

from __future__ import annotations

import html
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from schemas.notification import AckKind, Acknowledgement
from services.notifier import metrics
from services.notifier.console.routes import console_router, not_stored
from services.notifier.domain.inbox import AlertView
from services.notifier.domain.signing import read_link_token
from services.notifier.engine import Engine
from services.notifier.errors import AnswerNotStoredError
from services.notifier.followup import acknowledge

KINDS = {
    "ack": AckKind.ACKNOWLEDGED,
    "cannot-act": AckKind.CANNOT_ACT,
    "resolved": AckKind.RESOLVED,
}


class AckBody(BaseModel):
    comment: Annotated[str, Field(max_length=4000)] | None = None


class Readiness:
    ready: bool = False


def _who(engine: Engine, alert_id: str, authorization: str | None, token: str | None) -> str:
    if token:
        claim = read_link_token(token, alert_id, engine.config.link_key, int(time.time()))
        if claim is None:
            raise HTTPException(401, "invalid or expired link")
        return claim.contact_point
    if authorization and authorization.lower().startswith("bearer "):
        cp = engine.directory().by_api_key(authorization[7:].strip())
        if cp is not None:
            return cp.id
    raise HTTPException(401, "a contact point key or signed link is required")


def _view(view: AlertView) -> dict[str, Any]:
    alert = view.alert
    return {
        "alert_id": view.alert_id,
        "entry_id": view.entry_id,
        "list": alert.list.value if alert else None,
        "band": alert.band.value if alert else None,
        "urgency": alert.urgency.value if alert else None,
        "country": alert.country if alert else None,
        "acknowledged": view.acknowledged,
        "cancelled": view.cancelled,
        "escalation_level": view.escalation_level,
        "notifications": [
            {
                "notification_id": n.notification_id,
                "recipient": n.recipient,
                "channel": n.channel.value,
                "notice": n.notice.value,
                "state": n.state.value,
                "attempts": len(n.attempts),
            }
            for n in view.notifications.values()
        ],
        "acks": [a.model_dump(mode="json", exclude_none=True) for a in view.acks],
    }


def create_api(engine: Engine, readiness: Readiness) -> FastAPI:
    app = FastAPI(title="notice-relay notifier", docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(response: Response) -> dict[str, str]:
        if not readiness.ready:
            response.status_code = 503
            return {"status": "starting"}
        return {"status": "ready"}

    @app.get("/metrics")
    async def prometheus() -> Response:
        metrics.PENDING.set(engine.scheduler.pending)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.post("/v1/alerts/{alert_id}/{action}")
    async def answer(
        alert_id: str,
        action: str,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        token: Annotated[str | None, Query()] = None,
    ) -> dict[str, Any]:
        kind = KINDS.get(action)
        if kind is None:
            raise HTTPException(404, "unknown action")
        who = _who(engine, alert_id, authorization, token)
        # Closed alerts leave memory after a while: read back from the topic (authenticated
        # callers only, one scan at a time).
        await engine.recall(alert_id)
        if not engine.inbox.is_recipient(alert_id, who):
            raise HTTPException(403, "this contact point did not receive that alert")
        body = await _body(request)
        ack = Acknowledgement(
            alert_id=alert_id, kind=kind, contact_point=who, at=datetime.now(UTC),
            comment=body.comment,
        )  # fmt: skip
        try:
            await acknowledge(engine, ack)
        except AnswerNotStoredError as exc:
            raise not_stored() from exc
        return {"alert_id": alert_id, "kind": kind.value, "contact_point": who}

    @app.get("/v1/alerts/{alert_id}/ack", response_class=HTMLResponse)
    async def confirm_page(alert_id: str, token: Annotated[str, Query()]) -> str:
        # A GET never acknowledges (mail scanners follow links): it shows a button that POSTs.
        _who(engine, alert_id, None, token)
        target = html.escape(f"/v1/alerts/{alert_id}/ack?token={token}", quote=True)
        return (
            f"<html><body><p>Alert {html.escape(alert_id)}</p>"
            f"<form method='post' action=\"{target}\"><button>Acknowledge</button></form>"
            "</body></html>"
        )

    @app.get("/v1/inbox")
    async def inbox(authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        """The alerts of the caller's country, newest first, with their states."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise HTTPException(401, "a contact point key is required")
        cp = engine.directory().by_api_key(authorization[7:].strip())
        if cp is None:
            raise HTTPException(401, "unknown key")
        views = engine.inbox.for_country(cp.country)[:500]
        return {"country": cp.country, "alerts": [_view(v) for v in views]}

    app.include_router(console_router(engine))
    return app


async def _body(request: Request) -> AckBody:
    raw = await request.body()
    if not raw.strip():
        return AckBody()
    try:
        return AckBody.model_validate_json(raw)
    except ValueError as exc:
        raise HTTPException(422, 'body must be JSON like {"comment": "..."}') from exc
