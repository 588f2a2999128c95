"""The auditor's read-only view of the audit trail: what the officers, contact points and the
relay did concerning the auditor's country (its contact points' actions and its alerts),
newest first, optionally for one alert or one actor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from schemas.notification import AuditRecord
from services.notifier.console import views
from services.notifier.console.gate import Gate
from services.notifier.console.principal import Principal, Role
from services.notifier.console.web import deny, reply

MAX_SHOWN = 500
Filter = Annotated[str | None, Query(max_length=200)]


def audit_routes(router: APIRouter, gate: Gate) -> None:
    @router.get("/api/audit")
    async def trail(request: Request, alert_id: Filter = None, actor: Filter = None) -> Response:
        who = gate.require(request, Role.AUDITOR)
        if gate.audit is None:
            raise deny(404, "no audit trail here")
        concerns = _concerning(gate, who)

        def keep(record: AuditRecord) -> bool:
            return (
                concerns(record)
                and (alert_id is None or record.alert_id == alert_id)
                and (actor is None or record.actor == actor)
            )

        found = await gate.audit.newest(keep, MAX_SHOWN)
        records = [r.model_dump(mode="json") for r in found]
        return reply({"country": who.country, "records": records})


def _concerning(gate: Gate, who: Principal) -> Callable[[AuditRecord], bool]:
    points = {cp.id for cp in gate.engine.directory().contact_points if cp.country == who.country}
    alerts = {
        v.alert_id
        for v in gate.engine.inbox.for_country(who.country)
        if views.visible(v, who.country)
    }

    def concerns(record: AuditRecord) -> bool:
        return record.actor.split("/", 1)[0] in points or record.alert_id in alerts

    return concerns
