"""The Lead message: DESIGN.md's example validates; ids follow pattern and subjects."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from schemas.codec import encode
from schemas.lead import Lead, Pattern, lead_id_for

LEAD: dict[str, Any] = {
    "lead_id": lead_id_for("serial_escort", ["k1"]), "pattern": "serial_escort", "score": 0.91,
    "created_at": "2026-11-22T08:20:00Z", "country": "KAZ",
    "subjects": [{"role": "escort", "traveller": {"surname": "KHOLMATOV", "given_names": "ALISHER",
                  "date_of_birth": "1985-03-02"}, "document": {"number": "FA1234567",
                  "issuing_state": "UZB"}}],
    "evidence": [{"event_id": "0b0d6e0e-2b1d-4c55-9a43-5d8f1c8f7a10",
                  "why": "crossed with minor #3 of 3 in 60 days"}],
    "summary": "One adult crossed with 3 different unrelated minors in 41 days.",
}  # fmt: skip


def test_the_design_example_round_trips() -> None:
    lead = Lead.model_validate(LEAD)
    assert lead.pattern is Pattern.SERIAL_ESCORT
    assert Lead.model_validate_json(encode(lead)) == lead


def test_six_patterns_and_stable_ids() -> None:
    assert {p.value for p in Pattern} == {
        "serial_escort", "associate_of_listed", "document_many_identities",
        "identity_many_documents", "minor_repeated_crossings", "flow_surge",
    }  # fmt: skip
    assert lead_id_for("flow_surge", ["a", "b"]) == lead_id_for("flow_surge", ["b", "a"])
    assert lead_id_for("flow_surge", ["a"]) != lead_id_for("serial_escort", ["a"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pattern": "smuggling"}, "pattern"),
        ({"score": 1.5}, "score"),
        ({"evidence": []}, "evidence"),
        ({"summary": "two\nlines"}, "summary"),
        ({"lead_id": "a-1"}, "lead_id"),
    ],
)
def test_a_bad_lead_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Lead.model_validate(LEAD | change)
    assert field in {str(e["loc"][0]) for e in caught.value.errors()}
