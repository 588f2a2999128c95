"""The console's outcome routes: a duty officer or supervisor of the country of the hit gives
the outcome of an alert (``POST /console/api/alerts/{id}/outcome``), and a country's officers
list the hit reports about the entries it issued (``GET /console/api/reports``).

Registered before the generic answer route (``/api/alerts/{id}/{action}``) of ``routes``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.common.logging import get_logger
from services.notifier import access_audit
from services.notifier.access_audit import Reader
from services.notifier.console import views
from services.notifier.console.gate import Gate
from services.notifier.console.principal import INBOX_ROLES
from services.notifier.console.web import (
    VIA,
    audit_read,
    client_of,
    deny,
    not_stored,
    read_json,
    reply,
)
from services.notifier.domain.outcomes import Answerer, OutcomeRefused, report_fields
from services.notifier.errors import AnswerNotStoredError
from services.notifier.reports import OutcomeBody, give_outcome, reports_for_issuer

log = get_logger(__name__)


def outcome_routes(router: APIRouter, gate: Gate) -> None:
    @router.post("/api/alerts/{alert_id}/outcome")
    async def give(alert_id: str, request: Request) -> Response:
        _, who = gate.change(request, *INBOX_ROLES)
        view = gate.alert(alert_id, who)
        body = await read_json(request, OutcomeBody)
        answerer = Answerer(
            actor=who.actor, role=who.role.value, contact_point=who.contact_point,
            country=who.country, via=VIA, client=client_of(request),
        )  # fmt: skip
        try:
            report = await give_outcome(gate.engine, alert_id, body.given(), answerer)
        except OutcomeRefused as exc:
            raise deny(exc.status, str(exc)) from exc
        except AnswerNotStoredError as exc:
            raise not_stored() from exc
        log.info("console.outcome", alert_id=alert_id, account=who.account, outcome=report.outcome)
        shown = views.detail(view, who.contact_point, who.country)
        return reply({**shown, "report": report_fields(report)})

    @router.get("/api/reports")
    async def reports(request: Request) -> Response:
        """The hit reports about the entries the officer's country issued, newest first."""
        who = gate.inbox(request)
        found = reports_for_issuer(gate.engine.inbox, who.country)
        shown = access_audit.listed(Reader.of(request, who.actor, VIA), (r.alert_id for r in found))
        await audit_read(gate.engine.writer, shown)
        return reply({"country": who.country, "reports": [report_fields(r) for r in found]})
