"""Console sign-in and sign-out: a named account with its password (argon2), or the bureau's
OpenID Connect provider; both end in the same signed session cookie (``session``).

Failed sign-ins are throttled per address, per account and overall, and audited; neither the
answer nor its timing tells whether an account exists.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Annotated, Any

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from schemas.notification import AuditAction, RevocationKind
from services.common.logging import get_logger
from services.notifier import access_audit
from services.notifier.access_audit import ANONYMOUS, Reader
from services.notifier.accounts_file import Account, password_matches
from services.notifier.console.gate import Gate
from services.notifier.console.oidc import FLOW_COOKIE, OidcError
from services.notifier.console.session import COOKIE
from services.notifier.console.web import (
    HEADERS,
    VIA,
    audit_read,
    client_of,
    deny,
    not_stored,
    read_json,
    reply,
)

log = get_logger(__name__)
OIDC_VIA = "oidc"  # how a sign-in came, in its audit record


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    password: Annotated[StrictStr, Field(min_length=1, max_length=500)]


def session_routes(router: APIRouter, gate: Gate) -> None:
    @router.get("/api/session/options")
    async def options() -> Response:
        """What the sign-in page offers (no session needed)."""
        oidc = gate.oidc
        return reply({"password": True, "oidc": oidc.config.label if oidc else None})

    @router.post("/api/session")
    async def sign_in(request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise deny(415, "send JSON")
        client = client_of(request)
        body = await read_json(request, SignIn)
        name = body.account.strip().lower()
        if gate.throttle.blocked(client, time.monotonic(), name):
            raise deny(429, "too many failed sign-ins: wait a minute")
        account = gate.accounts().get(name)
        if not await asyncio.to_thread(password_matches, account, body.password):
            gate.throttle.failed(client, time.monotonic(), name)
            _refused(gate, client, "password", account)
            raise deny(401, "unknown account or wrong password")
        assert account is not None
        return await _signed_in(gate, request, account, VIA, reply)

    @router.get("/api/session")
    async def who(request: Request) -> Response:
        return reply(gate.whoami(*gate.signed_in(request)))

    @router.post("/api/session/end")
    async def sign_out(request: Request) -> Response:
        found, who = gate.change(request)
        # Refused by every replica from now on, not only forgotten by this browser.
        expires = found.expires(gate.keys)
        gate.revocations.claim(RevocationKind.SESSION, found.nonce, expires)
        try:
            await gate.revocations.store(RevocationKind.SESSION, found.nonce, expires)
        except KafkaError as exc:
            gate.revocations.release(RevocationKind.SESSION, found.nonce)
            raise not_stored() from exc
        log.info("console.signed_out", account=who.account)
        signed_out = Reader.of(request, who.actor, VIA).record(AuditAction.SIGNED_OUT)
        access_audit.written(gate.engine.writer, signed_out)
        response = reply({"signed_out": True})
        response.delete_cookie(COOKIE, path="/console", httponly=True, samesite="strict")
        return response

    _oidc_routes(router, gate)


def _oidc_routes(router: APIRouter, gate: Gate) -> None:
    @router.get("/oidc/start")
    async def oidc_start() -> Response:
        if gate.oidc is None:
            raise deny(404, "no identity provider is configured")
        try:
            url, flow = await gate.oidc.start(int(time.time()))
        except OidcError as exc:
            log.warning("console.oidc_unavailable", reason=exc.reason)
            raise deny(503, "the identity provider cannot be reached") from exc
        response = RedirectResponse(url, 303, headers=HEADERS)
        # Lax, not strict: the provider's redirect back is a cross-site navigation.
        response.set_cookie(
            FLOW_COOKIE, flow, max_age=600, path="/console/oidc", httponly=True,
            samesite="lax", secure=gate.secure,
        )  # fmt: skip
        return response

    @router.get("/oidc/callback")
    async def oidc_callback(
        request: Request, code: str | None = None, state: str | None = None
    ) -> Response:
        if gate.oidc is None:
            raise deny(404, "no identity provider is configured")
        client = client_of(request)
        if gate.throttle.blocked(client, time.monotonic()):
            raise deny(429, "too many failed sign-ins: wait a minute")
        try:
            if not code or not state:
                raise OidcError("the provider sent no code")  # noqa: TRY301 - one refusal path
            subject = await gate.oidc.finish(
                code, state, request.cookies.get(FLOW_COOKIE), int(time.time())
            )
        except OidcError as exc:
            gate.throttle.failed(client, time.monotonic())
            log.warning("console.oidc_refused", reason=exc.reason)
            _refused(gate, client, OIDC_VIA, None)
            raise deny(401, "the identity provider's answer was not accepted") from exc
        account = gate.accounts().by_subject(subject)
        if account is None:
            gate.throttle.failed(client, time.monotonic())
            _refused(gate, client, OIDC_VIA, None)
            raise deny(403, "this identity has no console account: ask your administrator")
        return await _signed_in(gate, request, account, OIDC_VIA, _to_console)


def _to_console(_data: dict[str, Any]) -> Response:
    response = RedirectResponse("/console/", 303, headers=HEADERS)
    response.delete_cookie(FLOW_COOKIE, path="/console/oidc", httponly=True, samesite="lax")
    return response


def _refused(gate: Gate, client: str, method: str, account: Account | None) -> None:
    log.warning("console.sign_in_refused", method=method)
    known = {"account": account.account} if account is not None else {}
    refused = Reader(ANONYMOUS, VIA, client).record(
        AuditAction.SIGN_IN_REFUSED, method=method, **known
    )
    access_audit.written(gate.engine.writer, refused)


async def _signed_in(
    gate: Gate,
    request: Request,
    account: Account,
    method: str,
    respond: Callable[[dict[str, Any]], Response],
) -> Response:
    """Issue the session, audit it (stored before the officer sees anything), set the cookie."""
    now = int(time.time())
    cookie, found = gate.session_for(account, now)
    who = account.principal()
    record = Reader(who.actor, VIA, client_of(request)).record(
        AuditAction.SIGNED_IN, method=method, role=who.role.value
    )
    await audit_read(gate.engine.writer, record)
    data = gate.whoami(found, who)
    response = respond(data)
    response.set_cookie(
        COOKIE, cookie, max_age=gate.keys.ttl_s, path="/console",
        httponly=True, samesite="strict", secure=gate.secure,
    )  # fmt: skip
    log.info("console.signed_in", account=who.account, method=method)
    return response
