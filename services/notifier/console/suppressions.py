"""The console's false-match suppressions: a supervisor sees those of the country's posts,
confirms a duty officer's proposal, and revokes; an auditor may look.

Routes under /console/api/suppressions. The list shows who was met (name, birth date,
document), so it leaves only once its read is audited; a confirmation or a revocation is
answered only once the record and its audit record are stored (503 otherwise).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Protocol

from aiokafka.errors import KafkaError
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from schemas.notification import AuditAction
from schemas.suppression import Suppression, SuppressionState
from services.common.logging import get_logger
from services.notifier.access_audit import Reader
from services.notifier.console.principal import Principal, Role
from services.notifier.console.session import Session
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
from services.notifier.domain import suppressions as rules
from services.notifier.suppressions import SuppressionDesk
from services.notifier.writer import Writer

log = get_logger(__name__)

VIEWERS = (Role.SUPERVISOR, Role.AUDITOR)
RETRY_AFTER_S = "5"


class Guard(Protocol):
    """The console's gate (``gate.Gate``)."""

    def require(self, request: Request, *roles: Role) -> Principal: ...

    def change(self, request: Request, *roles: Role) -> tuple[Session, Principal]: ...


class Confirm(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Revoke(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[StrictStr, Field(min_length=1, max_length=4000, pattern=r"\S")]


def suppressions_router(guard: Guard, desk: SuppressionDesk, writer: Writer) -> APIRouter:
    router = APIRouter(prefix="/console/api/suppressions", include_in_schema=False)

    def read_to_end() -> None:
        if not desk.table.caught_up.is_set():
            # A partial list would look complete: the first read of the topic comes first.
            retry = {**HEADERS, "Retry-After": RETRY_AFTER_S}
            raise HTTPException(503, "suppressions are still being read; try again", headers=retry)

    def visible(suppression_id: str, who: Principal) -> Suppression:
        read_to_end()
        item = desk.get(suppression_id)
        if item is None or not rules.visible_to(item, who.country):
            raise deny(404, "no such suppression for this country")
        return item

    @router.get("")
    async def listing(request: Request, state: SuppressionState | None = None) -> Response:
        who = guard.require(request, *VIEWERS)
        read_to_end()
        now = datetime.now(UTC)
        shown = sorted(
            (
                item
                for item in desk.table.by_id.values()
                if rules.visible_to(item, who.country) and state in (None, item.state)
            ),
            key=lambda item: item.reported_at,
            reverse=True,
        )
        ids = [item.suppression_id for item in shown]
        listed = Reader.of(request, who.actor, VIA).record(AuditAction.LISTED, suppressions=ids)
        await audit_read(writer, listed)
        rows = [rules.view(item, now) for item in shown]
        return reply({"now": now.isoformat(), "country": who.country, "suppressions": rows})

    @router.post("/{suppression_id}/confirm")
    async def confirm(suppression_id: str, request: Request) -> Response:
        _, who = guard.change(request, Role.SUPERVISOR)
        item = visible(suppression_id, who)
        await read_json(request, Confirm)
        if item.state != SuppressionState.PENDING:
            raise deny(409, f"state: the suppression is {item.state.value}, not pending")
        try:
            changed = await desk.confirm(item, who.actor, _where(request))
        except rules.NotSuppressible as exc:
            raise deny(409, str(exc)) from exc
        except KafkaError as exc:
            raise not_stored() from exc
        return reply(rules.view(changed, datetime.now(UTC)))

    @router.post("/{suppression_id}/revoke")
    async def revoke(suppression_id: str, request: Request) -> Response:
        _, who = guard.change(request, Role.SUPERVISOR)
        item = visible(suppression_id, who)
        body = await read_json(request, Revoke)
        try:
            changed = await desk.revoke(item, who.actor, body.reason.strip(), _where(request))
        except rules.NotSuppressible as exc:
            raise deny(409, str(exc)) from exc
        except KafkaError as exc:
            raise not_stored() from exc
        return reply(rules.view(changed, datetime.now(UTC)))

    return router


def _where(request: Request) -> dict[str, str]:
    return {"via": VIA, "client": client_of(request)}
