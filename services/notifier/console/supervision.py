"""The supervisor's view of the country's inbox: the alerts that escalated, and every officer's
answers with their names and comments. Supervisors only; audited like any inbox read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.notifier import access_audit
from services.notifier.access_audit import Reader
from services.notifier.console import views
from services.notifier.console.gate import Gate
from services.notifier.console.principal import Principal, Role
from services.notifier.console.web import VIA, audit_read, reply


def supervision_routes(router: APIRouter, gate: Gate) -> None:
    @router.get("/api/supervision")
    async def supervision(request: Request) -> Response:
        who = gate.require(request, Role.SUPERVISOR)
        shown = overview(gate, who)
        ids = {r["alert_id"] for r in shown["escalations"]} | {
            a["alert_id"] for a in shown["answers"]
        }
        reader = Reader.of(request, who.actor, VIA)
        await audit_read(gate.engine.writer, access_audit.listed(reader, sorted(ids)))
        return reply(shown)


def overview(gate: Gate, who: Principal) -> dict[str, Any]:
    found = [v for v in gate.engine.inbox.for_country(who.country) if views.visible(v, who.country)]
    escalated = [v for v in found if v.escalation_level > 0]
    answers = [
        {"alert_id": v.alert_id, **ack}
        for v in found
        for ack in views.detail(v, who.contact_point, who.country)["acks"]
        if ack["own"]
    ]
    answers.sort(key=lambda a: a["at"] or "", reverse=True)
    return {
        "now": datetime.now(UTC).isoformat(),
        "country": who.country,
        "escalations": views.rows(escalated, who.contact_point, who.country),
        "answers": answers[: views.MAX_ROWS],
    }
