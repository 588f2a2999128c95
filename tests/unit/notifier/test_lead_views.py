"""The Leads view's pure rules: who may see a lead, filters, evidence order, link chart, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from schemas.lead import Pattern
from services.notifier.console import lead_views
from services.notifier.console.lead_views import LeadFilter
from services.notifier.console.leads import FilterQuery
from tests.support.lead_data import T0, associate_of_listed, flow_surge, serial_escort


def test_a_lead_is_seen_where_it_happened_and_a_restriction_wins() -> None:
    kaz = serial_escort("KAZ")
    assert lead_views.visible(kaz, "KAZ")
    assert not lead_views.visible(kaz, "TJK")
    # One of its events reported in UZB: UZB's analysts see it too.
    crossed = kaz.model_copy(
        update={
            "evidence": [kaz.evidence[0].model_copy(update={"country": "UZB"}), *kaz.evidence[1:]]
        }
    )
    assert lead_views.visible(crossed, "UZB")  # fmt: skip
    restricted = associate_of_listed("KAZ", restricted_to=["UZB"])
    assert not lead_views.visible(restricted, "KAZ")  # raised in KAZ, but restricted to UZB
    assert not lead_views.visible(restricted, "TJK")
    both = associate_of_listed("KAZ", restricted_to=["KAZ", "UZB"])
    assert lead_views.visible(both, "KAZ")
    assert not lead_views.visible(both, "UZB")  # allowed, but nothing of it happened there
    # The coordination centre's analysts: every lead, within its dissemination.
    assert lead_views.visible(kaz, "XPO", regional=True)
    assert not lead_views.visible(both, "XPO", regional=True)


def test_filters_by_pattern_score_country_and_period() -> None:
    escort = serial_escort("KAZ")  # active from T0 to T0 + 24 days, score 0.91
    listed = associate_of_listed("KAZ")  # created T0 + 40 days, score 0.78
    both = [escort, listed]

    def ids(wanted: LeadFilter) -> set[str]:
        return {x.lead_id for x in lead_views.select(both, "KAZ", wanted)}

    assert ids(LeadFilter()) == {escort.lead_id, listed.lead_id}
    assert ids(LeadFilter(pattern=Pattern.SERIAL_ESCORT)) == {escort.lead_id}
    assert ids(LeadFilter(min_score=0.8)) == {escort.lead_id}
    assert ids(LeadFilter(country="UZB")) == set()
    assert ids(LeadFilter(since=T0 + timedelta(days=30))) == {listed.lead_id}
    assert ids(LeadFilter(until=T0 + timedelta(days=30))) == {escort.lead_id}
    # Most recently active first.
    assert [x.lead_id for x in lead_views.select(both, "KAZ", LeadFilter())] == [
        listed.lead_id, escort.lead_id,
    ]  # fmt: skip


def test_filter_query_names_the_field_it_refuses() -> None:
    with pytest.raises(ValidationError) as bad:
        FilterQuery.model_validate({"pattern": "gossip"})
    assert bad.value.errors()[0]["loc"] == ("pattern",)
    with pytest.raises(ValidationError) as bad:
        FilterQuery.model_validate({"min_score": "2"})
    assert bad.value.errors()[0]["loc"] == ("min_score",)
    day = FilterQuery.model_validate({"since": "2026-11-20T00:00:00"}).wanted()
    assert day.since == datetime(2026, 11, 20, tzinfo=UTC)  # no zone given: UTC


def test_detail_puts_evidence_in_time_order_and_names_whose_event_it_was() -> None:
    lead = serial_escort()
    shown = lead_views.detail(lead)
    times = [e["occurred_at"] for e in shown["evidence"]]
    assert times == sorted(times)
    assert len(times) == 6
    first = shown["evidence"][0]
    assert first["subject"] == "SYNTHOVA DILNOZA"
    assert first["subject_role"] == "escort"
    assert first["party"].startswith("KZ-ALA-AIR-")
    assert first["when"]["offset"] == "+05:00"  # KAZ's post time, UTC beside it
    assert shown["evidence"][1]["subject"] == "ALPHEEV TIMUR"


def test_link_chart_has_persons_documents_parties_and_transport_linked_by_evidence() -> None:
    chart = lead_views.detail(serial_escort())["chart"]
    kinds = sorted(n["kind"] for n in chart["nodes"])
    assert kinds.count("person") == 4  # the escort and three minors
    assert kinds.count("document") == 1
    assert kinds.count("party") == 3
    assert kinds.count("transport") == 3
    labels = {n["id"]: n["label"] for n in chart["nodes"]}
    minor_to_party = [
        e for e in chart["edges"]
        if labels[e["source"]].startswith("BETOVA") and e["target"].startswith("party:")
    ]  # fmt: skip
    assert len(minor_to_party) == 1
    assert "family name differs" in minor_to_party[0]["label"]
    assert minor_to_party[0]["label"].startswith("2026-11-13")
    # Every edge joins two nodes of the chart.
    assert all(e["source"] in labels and e["target"] in labels for e in chart["edges"])


def test_a_listed_subject_is_its_own_kind_and_old_leads_still_get_a_chart() -> None:
    lead = associate_of_listed()
    chart = lead_views.detail(lead)["chart"]
    assert {n["kind"] for n in chart["nodes"]} == {"person", "listed", "transport"}
    bare = lead.model_copy(
        update={
            "evidence": [
                e.model_copy(update={"subject": None, "transport": None}) for e in lead.evidence
            ]
        }
    )
    edges = lead_views.detail(bare)["chart"]["edges"]  # fmt: skip
    assert [(e["source"], e["target"], e["label"]) for e in edges] == [("s0", "s1", "listed")]


def test_csv_has_a_line_per_evidence_and_defuses_formulas() -> None:
    lead, listed = serial_escort(surname="=HYPERLINK(1)"), associate_of_listed()
    rows = list(csv.DictReader(io.StringIO(lead_views.to_csv([lead, listed]))))
    assert len(rows) == 6 + 2
    assert list(rows[0]) == list(lead_views.CSV_COLUMNS)
    assert rows[0]["subject"] == "'=HYPERLINK(1) DILNOZA"
    assert rows[0]["occurred_at"] < rows[1]["occurred_at"]
    assert [r["lead_id"] for r in rows] == [lead.lead_id] * 6 + [listed.lead_id] * 2


def test_a_surge_shows_its_counts_and_no_chart() -> None:
    surge = flow_surge("KAZ")
    shown = lead_views.detail(surge)
    assert shown["subjects"] == []
    assert shown["chart"]["nodes"] == []
    assert shown["aggregate"]["count"] == 41
    assert lead_views.visible(surge, "KAZ")
    assert not lead_views.visible(surge, "UZB")
