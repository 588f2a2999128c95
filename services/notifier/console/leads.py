"""The console's Leads view: an analyst's list, filters, a lead's evidence and link chart, and
exports, mounted under /console beside the inbox.

Only the ``analyst`` role passes (every other role gets 403 and never sees a lead), and only
the leads its country may see (``lead_views.visible``; the directory's coordination centre is
``regional``). Every answer that shows or exports a
lead leaves only once its audit record is stored (``audit_read``: 503 otherwise).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.lead import Lead, Pattern
from schemas.notification import AuditAction
from services.common.logging import get_logger
from services.notifier.access_audit import Reader
from services.notifier.console import lead_views
from services.notifier.console.gate import Gate
from services.notifier.console.lead_views import LeadFilter
from services.notifier.console.principal import Principal, Role
from services.notifier.console.web import HEADERS, VIA, audit_read, deny, reply
from services.notifier.domain.words import N_
from services.notifier.leads_model import LeadsModel
from services.notifier.writer import Writer

log = get_logger(__name__)

VENDOR = Path(__file__).parent / "static" / "vendor"
VENDOR_FILES = {"cytoscape.min.js": "text/javascript; charset=utf-8"}
EXPORTS = {"json": "application/json", "csv": "text/csv; charset=utf-8"}
RETRY_AFTER_S = "5"


class FilterQuery(BaseModel):
    """The filters of the list and its export, from the query string (422 names the field)."""

    model_config = ConfigDict(extra="forbid")
    pattern: Pattern | None = None
    min_score: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    since: datetime | None = None  # a date or a time; without a zone it is UTC
    until: datetime | None = None

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value

    def wanted(self) -> LeadFilter:
        return LeadFilter(self.pattern, self.min_score, self.country, self.since, self.until)


class ExportQuery(FilterQuery):
    format: str = "csv"  # json or csv


def leads_router(gate: Gate, model: LeadsModel, writer: Writer) -> APIRouter:
    router = APIRouter(include_in_schema=False)  # included in the console router (/console)
    vendor = {name: (VENDOR / name).read_bytes() for name in VENDOR_FILES}

    @router.get("/static/vendor/{name}")
    async def vendored(name: str) -> Response:
        if name not in vendor:
            raise deny(404, "not found")
        return Response(vendor[name], headers=HEADERS, media_type=VENDOR_FILES[name])

    def analyst(request: Request) -> Principal:
        who = gate.require(request, Role.ANALYST)
        if not model.caught_up.is_set():
            # A partial list would look complete: the first read of the topic comes first.
            retry = {**HEADERS, "Retry-After": RETRY_AFTER_S}
            raise HTTPException(503, N_("leads are still being read; try again"), headers=retry)
        return who

    def regional(who: Principal) -> bool:
        return who.contact_point == gate.engine.directory().coordination_centre

    def shown(who: Principal, lead_id: str) -> Lead:
        lead = model.get(lead_id)
        if lead is None or not lead_views.visible(lead, who.country, regional(who)):
            raise deny(404, N_("no such lead for this country"))  # the same answer for both
        return lead

    def chosen(who: Principal, filters: FilterQuery) -> list[Lead]:
        return lead_views.select(model.all(), who.country, filters.wanted(), regional(who))

    async def audited(request: Request, who: Principal, action: AuditAction, **what: Any) -> None:
        reader = Reader.of(request, who.actor, VIA)
        await audit_read(writer, reader.record(action, country=who.country, **what))

    @router.get("/api/leads")
    async def listing(request: Request, filters: Annotated[FilterQuery, Query()]) -> Response:
        who = analyst(request)
        found = chosen(who, filters)
        await audited(request, who, AuditAction.LEADS_LISTED, leads=[x.lead_id for x in found])
        return reply({"country": who.country, "leads": [lead_views.row(x) for x in found]})

    @router.get("/api/leads/export")
    async def export_all(request: Request, filters: Annotated[ExportQuery, Query()]) -> Response:
        who = analyst(request)
        found = chosen(who, filters)
        return await _export(request, who, found, filters.format)

    @router.get("/api/leads/{lead_id}")
    async def one(lead_id: str, request: Request) -> Response:
        who = analyst(request)
        lead = shown(who, lead_id)
        await audited(request, who, AuditAction.LEAD_OPENED, leads=[lead.lead_id])
        log.info("console.lead_opened", lead_id=lead.lead_id, actor=who.actor)
        return reply(lead_views.detail(lead))

    @router.get("/api/leads/{lead_id}/export")
    async def export_one(lead_id: str, request: Request, format: str = "json") -> Response:
        who = analyst(request)
        return await _export(request, who, [shown(who, lead_id)], format)

    async def _export(request: Request, who: Principal, leads: list[Lead], format: str) -> Response:
        if format not in EXPORTS:
            raise deny(422, N_("format: json or csv"))
        ids = [x.lead_id for x in leads]
        await audited(request, who, AuditAction.LEADS_EXPORTED, leads=ids, format=format)
        log.info("console.leads_exported", count=len(ids), format=format, actor=who.actor)
        if format == "csv":
            body = lead_views.to_csv(leads)
        else:
            data = lead_views.to_json(leads)
            body = json.dumps(data, ensure_ascii=False, indent=1)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        name = f"leads-{stamp}.{format}" if len(leads) != 1 else f"{ids[0]}.{format}"
        headers = {**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
        return Response(body, headers=headers, media_type=EXPORTS[format])

    return router
