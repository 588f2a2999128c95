"""What every console route answers with: security headers, refusals, JSON replies and
bounded request bodies; shared by the sign-in, alert and other console routes."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from schemas.notification import AuditRecord
from services.common.http_server import BodyTooLarge, read_limited
from services.notifier import access_audit
from services.notifier.errors import AnswerNotStoredError, AuditNotStoredError
from services.notifier.writer import Writer

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
MAX_BODY = 16_384  # a sign-in or an answer: a 4,000-character comment with room to spare
VIA = "console"  # how a read came, in its audit record
M = TypeVar("M", bound=BaseModel)


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


def origin_of(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


def client_of(request: Request) -> str:
    return request.client.host if request.client else "?"


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    try:
        return await read_limited(request, limit)
    except BodyTooLarge as exc:
        raise deny(413, str(exc)) from None


async def read_json(request: Request, model: type[M]) -> M:
    """The body as ``model``, or 422 naming the fields that are wrong (never their values)."""
    try:
        return model.model_validate_json(await read_body(request))
    except ValidationError as exc:
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
        raise deny(422, f"invalid request body: {', '.join(fields) or 'JSON'}") from exc
