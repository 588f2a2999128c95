"""What an analyst may see of the leads, shaped for the console: rows, a lead's detail with
its evidence in time order and its link chart, and the CSV export. Pure.

A lead is visible to an analyst's country when the pattern touched that country (where the
lead was raised, or where one of its events was reported) and its dissemination allows it: a
lead that involves a restricted watchlist entry carries the entry's ``restricted_to`` and is
invisible to every other country, whatever else it touched. The coordination centre's analysts
(``regional``) see every lead its dissemination allows them, as the region's analysis file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.lead import EvidenceItem, Lead, Pattern, Subject, SubjectDocument
from services.notifier.domain import clock

MAX_ROWS = 500
EDGE_LABEL = 80  # characters of an evidence's words on a chart edge (all of it in the list)
# A spreadsheet runs a cell that starts with one of these as a formula: names and comments
# come from border posts, so such a cell is written as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "lead_id", "pattern", "score", "lead_country", "created_at", "updated_at", "summary",
    "event_id", "occurred_at", "event_country", "subject_role", "subject", "document",
    "party", "transport", "why",
)  # fmt: skip


@dataclass(frozen=True)
class LeadFilter:
    """What the analyst asked for; None is "any"."""

    pattern: Pattern | None = None
    min_score: float | None = None
    country: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _last(lead: Lead) -> datetime:
    return lead.updated_at or lead.created_at


def countries(lead: Lead) -> set[str]:
    """Where the pattern was seen: the lead's country and every event's."""
    found = {lead.country, *(e.country for e in lead.evidence if e.country)}
    if lead.aggregate is not None:
        found.add(lead.aggregate.country)
    return found


def visible(lead: Lead, country: str, regional: bool = False) -> bool:
    if lead.dissemination is not None and country not in lead.dissemination.restricted_to:
        return False  # fail closed: the restriction wins over everything else
    return regional or country in countries(lead)


def matches(lead: Lead, wanted: LeadFilter) -> bool:
    """Every given filter holds; the time filter keeps leads active in the period."""
    return (
        (wanted.pattern is None or lead.pattern is wanted.pattern)
        and (wanted.min_score is None or lead.score >= wanted.min_score)
        and (wanted.country is None or wanted.country in countries(lead))
        and (wanted.since is None or _last(lead) >= wanted.since)
        and (wanted.until is None or lead.created_at <= wanted.until)
    )


def select(
    leads: Iterable[Lead], country: str, wanted: LeadFilter, regional: bool = False
) -> list[Lead]:
    """The visible leads that match, most recently active first, at most ``MAX_ROWS``."""
    found = [x for x in leads if visible(x, country, regional) and matches(x, wanted)]
    found.sort(key=lambda x: (_last(x), x.lead_id), reverse=True)
    return found[:MAX_ROWS]


def _stamp(at: datetime, country: str) -> clock.Stamp:
    """At the post (its offset, or its country's zone) with UTC beside, as the inbox shows."""
    return clock.stamp(at, clock.post_zone(at, country))


def row(lead: Lead) -> dict[str, Any]:
    """Times as ISO instants (``*_at``) and as the console shows them (``created``,
    ``updated``: in the lead's country)."""
    return {
        "lead_id": lead.lead_id,
        "pattern": lead.pattern.value,
        "score": round(lead.score, 2),
        "country": lead.country,
        "created_at": lead.created_at.isoformat(),
        "updated_at": _last(lead).isoformat(),
        "created": _stamp(lead.created_at, lead.country),
        "updated": _stamp(_last(lead), lead.country),
        "summary": lead.summary,
        "subjects": len(lead.subjects),
        "events": len(lead.evidence),
        "restricted_to": _restricted(lead),
    }


def _restricted(lead: Lead) -> list[str] | None:
    return list(lead.dissemination.restricted_to) if lead.dissemination else None


def _document(doc: SubjectDocument | None) -> str | None:
    if doc is None:
        return None
    return f"{doc.number} ({doc.issuing_state})" if doc.issuing_state else doc.number


def _subject_name(subject: Subject) -> str | None:
    t = subject.traveller
    return " ".join(p for p in (t.surname, t.given_names) if p) if t else None


def _subject(subject: Subject) -> dict[str, Any]:
    t = subject.traveller
    return {
        "role": subject.role,
        "name": _subject_name(subject),
        "date_of_birth": t.date_of_birth if t else None,
        "sex": t.sex if t else None,
        "nationality": t.nationality if t else None,
        "document": _document(subject.document),
        "entry_id": subject.entry_id,
    }


def in_time_order(lead: Lead) -> list[EvidenceItem]:
    """Evidence by when it happened (undated last), then by event id: a stable order."""
    return sorted(
        lead.evidence,
        key=lambda e: (e.occurred_at is None, e.occurred_at or lead.created_at, e.event_id),
    )


def _owner(lead: Lead, item: EvidenceItem) -> Subject | None:
    if item.subject is None or item.subject >= len(lead.subjects):
        return None
    return lead.subjects[item.subject]


def _evidence(lead: Lead, item: EvidenceItem) -> dict[str, Any]:
    owner = _owner(lead, item)
    return {
        "event_id": item.event_id,
        "occurred_at": item.occurred_at.isoformat() if item.occurred_at else None,
        "when": _stamp(item.occurred_at, item.country or lead.country)
        if item.occurred_at
        else None,
        "why": item.why,
        "country": item.country,
        "subject": (_subject_name(owner) or _document(owner.document)) if owner else None,
        "subject_role": owner.role if owner else None,
        "document": _document(item.document),
        "party": item.party,
        "transport": item.transport,
    }


def detail(lead: Lead) -> dict[str, Any]:
    aggregate = lead.aggregate.model_dump(mode="json") if lead.aggregate else None
    return {
        **row(lead),
        "subjects": [_subject(s) for s in lead.subjects],
        "evidence": [_evidence(lead, e) for e in in_time_order(lead)],
        "aggregate": aggregate,
        "chart": Chart.of(lead).as_json(),
    }


class Chart:
    """The link chart: persons, documents, parties and transport as nodes, and an edge per
    piece of evidence that links them, labelled with its date and words."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, str]] = {}
        self.edges: list[dict[str, str]] = []
        self.root: str | None = None  # the first subject's node: the chart is drawn from it

    @classmethod
    def of(cls, lead: Lead) -> Chart:
        chart = cls()
        owners = [chart._subject_node(i, s) for i, s in enumerate(lead.subjects)]
        chart.root = owners[0] if owners else None
        for item in in_time_order(lead):
            if item.subject is not None and item.subject < len(owners):
                chart._evidence_edges(owners[item.subject], item)
        if not chart.edges and len(owners) > 1:
            # Evidence without its links (an older lead): tie each subject to the first one.
            for i, node in enumerate(owners[1:], 1):
                chart._edge(owners[0], node, lead.subjects[i].role)
        return chart

    def as_json(self) -> dict[str, Any]:
        return {"nodes": list(self.nodes.values()), "edges": self.edges, "root": self.root}

    def _node(self, node_id: str, kind: str, label: str) -> str:
        self.nodes.setdefault(node_id, {"id": node_id, "kind": kind, "label": label})
        return node_id

    def _edge(self, source: str, target: str, label: str) -> None:
        if source == target:
            return
        edge_id = f"e{len(self.edges)}"
        self.edges.append({"id": edge_id, "source": source, "target": target, "label": label})

    def _document_node(self, doc: SubjectDocument) -> str:
        label = _document(doc) or doc.number
        return self._node(f"doc:{doc.issuing_state or ''}:{doc.number}", "document", label)

    def _subject_node(self, index: int, subject: Subject) -> str:
        if subject.traveller is None and subject.document is not None:
            return self._document_node(subject.document)
        kind = "listed" if subject.entry_id else "person"
        name = _subject_name(subject) or subject.entry_id or subject.role
        node = self._node(f"s{index}", kind, f"{name} · {subject.role}")
        if subject.document is not None:
            self._edge(node, self._document_node(subject.document), "presented")
        return node

    def _evidence_edges(self, owner: str, item: EvidenceItem) -> None:
        day = item.occurred_at.date().isoformat() if item.occurred_at else ""
        label = f"{day} {item.why}".strip()
        if len(label) > EDGE_LABEL:
            label = label[: EDGE_LABEL - 1] + "…"
        if item.party:
            self._edge(owner, self._node(f"party:{item.party}", "party", item.party), label)
        if item.transport:
            target = self._node(f"trip:{item.transport}", "transport", item.transport)
            self._edge(owner, target, label)
        if item.document is not None:
            self._edge(owner, self._document_node(item.document), label)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(leads: Iterable[Lead]) -> str:
    """One line per piece of evidence, with its lead's fields repeated (a link-analysis tool
    imports it as it is)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for lead in leads:
        base = row(lead)
        head = [base[k] for k in ("lead_id", "pattern", "score", "country", "created_at")]
        head += [base["updated_at"], lead.summary]
        for item in in_time_order(lead):
            shown = _evidence(lead, item)
            writer.writerow(
                [_cell(v) for v in head]
                + [_cell(shown[k]) for k in ("event_id", "occurred_at", "country")]
                + [_cell(shown[k]) for k in ("subject_role", "subject", "document")]
                + [_cell(shown[k]) for k in ("party", "transport", "why")]
            )
    return out.getvalue()


def to_json(leads: Iterable[Lead]) -> list[dict[str, Any]]:
    """The leads as on the wire, evidence in time order."""
    return [
        {**x.model_dump(mode="json"), "evidence": [
            e.model_dump(mode="json") for e in in_time_order(x)
        ]}
        for x in leads
    ]  # fmt: skip
