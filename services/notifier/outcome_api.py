"""``POST /v1/alerts/{alert_id}/outcome``: a contact point gives an alert's outcome with its
API key, as its console's officers do (``console/outcomes.py``); the answer is audited with
the contact point as actor. Registered before the generic answer route of ``api``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import ValidationError

from services.notifier.console.web import HEADERS, not_stored, read_body
from services.notifier.domain.outcomes import API_ROLE, Answerer, OutcomeRefused
from services.notifier.engine import Engine
from services.notifier.errors import AnswerNotStoredError
from services.notifier.reports import OutcomeBody, give_outcome

KeyHolder = Callable[[str | None], str]  # Authorization header -> contact point id, or 401


def outcome_router(engine: Engine, key_holder: KeyHolder) -> APIRouter:
    router = APIRouter()

    @router.post("/v1/alerts/{alert_id}/outcome")
    async def outcome(
        alert_id: str, request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        cp = engine.directory().get(key_holder(authorization))
        if cp is None:
            raise HTTPException(401, "a contact point key is required", headers=HEADERS)
        try:
            body = OutcomeBody.model_validate_json(await read_body(request))
        except ValidationError as exc:
            fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
            detail = f"invalid request body: {', '.join(fields) or 'JSON'}"
            raise HTTPException(422, detail, headers=HEADERS) from exc
        client = request.client.host if request.client else "unknown"
        who = Answerer(cp.id, API_ROLE, cp.id, cp.country, via="api", client=client)
        try:
            report = await give_outcome(engine, alert_id, body.given(), who)
        except OutcomeRefused as exc:
            raise HTTPException(exc.status, str(exc), headers=HEADERS) from exc
        except AnswerNotStoredError as exc:
            raise not_stored() from exc
        return {
            "alert_id": alert_id,
            "report_id": report.report_id,
            "outcome": report.outcome.value,
            "contact_point": cp.id,
        }

    return router
