"""A false match's life: proposed by a duty officer, active once a supervisor gave or confirmed
it, withdrawn by a supervisor or a later other outcome; never for a document hit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.hit_report import HitReport, report_id_for
from schemas.suppression import Suppression, SuppressionState
from services.notifier.domain import suppressions as rules

AT = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
KEEP = timedelta(days=90)
ALERT = "a-" + "1" * 32


def report(outcome: str = "false_match", role: str = "duty_officer", **changes: Any) -> HitReport:
    fields: dict[str, Any] = {
        "report_id": report_id_for(ALERT, outcome), "alert_id": ALERT,
        "event_id": "0b0d6e0e-2b1d-4c55-9a43-5d8f1c8f7a10", "entry_id": "RED-T-1",
        "list": "red_notice", "kind": "person", "issuer": "UZB", "country": "KAZ",
        "outcome": outcome, "comment": "not him: other father's name, other birthplace",
        "answered_by": f"KAZ-NCB/kaz.{role}", "answered_by_role": role,
        "contact_point": "KAZ-NCB", "at": AT, "occurred_at": AT - timedelta(minutes=5),
        "traveller": {"surname": "KHOLMATOV", "given_names": "ALISHER",
                      "date_of_birth": "1985-03-02"},
        "event_document": {"number": "ZZ1111111", "issuing_state": "UZB", "type": "P"},
        **changes,
    }  # fmt: skip
    return HitReport.model_validate(fields)


def test_a_duty_officers_false_match_is_only_proposed() -> None:
    item = rules.from_report(report(), None, AT, KEEP)
    assert item is not None
    assert item.state == SuppressionState.PENDING
    assert not item.silences(AT)
    assert (item.country, item.entry_id, item.identity.document_number) == (
        "KAZ", "RED-T-1", "ZZ1111111",
    )  # fmt: skip


def test_a_supervisors_false_match_suppresses_at_once_for_the_set_time() -> None:
    item = rules.from_report(report(role="supervisor"), None, AT, KEEP)
    assert item is not None
    assert item.state == SuppressionState.ACTIVE
    assert item.confirmed_by == "KAZ-NCB/kaz.supervisor"
    assert item.expires_at == AT + KEEP
    assert item.silences(AT + KEEP - timedelta(seconds=1))
    assert not item.silences(AT + KEEP)


def test_confirm_then_revoke() -> None:
    proposed = rules.from_report(report(), None, AT, KEEP)
    assert proposed is not None
    later = AT + timedelta(hours=1)
    active = rules.confirmed(proposed, "KAZ-NCB/kaz.super1", later, KEEP)
    assert (active.state, active.confirmed_by, active.expires_at) == (
        SuppressionState.ACTIVE, "KAZ-NCB/kaz.super1", later + KEEP,
    )  # fmt: skip
    gone = rules.revoked(active, "KAZ-NCB/kaz.super1", "he is wanted after all", later)
    assert gone.state == SuppressionState.REVOKED
    assert not gone.silences(later)
    Suppression.model_validate(gone.model_dump())  # still a valid record
    with pytest.raises(rules.NotSuppressible):
        rules.confirmed(gone, "KAZ-NCB/kaz.super1", later, KEEP)
    with pytest.raises(rules.NotSuppressible):
        rules.revoked(gone, "KAZ-NCB/kaz.super1", "again", later)


def test_a_document_hit_is_never_suppressed() -> None:
    doc = report(kind="document", outcome="document_seized", role="supervisor")
    assert rules.from_report(doc, None, AT, KEEP) is None
    with pytest.raises(ValueError, match="outcome"):
        report(kind="document", role="supervisor")  # false_match does not answer a document hit


def test_no_document_presented_no_suppression() -> None:
    with pytest.raises(rules.NotSuppressible, match="document"):
        rules.from_report(report(role="supervisor", event_document=None), None, AT, KEEP)


def test_another_outcome_withdraws_a_proposal_and_a_supervisors_an_active_one() -> None:
    proposed = rules.from_report(report(), None, AT, KEEP)
    assert proposed is not None
    withdrawn = rules.from_report(report("arrested", "duty_officer"), proposed, AT, KEEP)
    assert withdrawn is not None
    assert withdrawn.state == SuppressionState.REVOKED
    active = rules.confirmed(proposed, "KAZ-NCB/kaz.super1", AT, KEEP)
    assert rules.from_report(report("arrested", "duty_officer"), active, AT, KEEP) is None
    overruled = rules.from_report(report("arrested", "supervisor"), active, AT, KEEP)
    assert overruled is not None
    assert overruled.state == SuppressionState.REVOKED


def test_an_officers_word_does_not_turn_an_active_suppression_back_into_a_proposal() -> None:
    active = rules.from_report(report(role="supervisor"), None, AT, KEEP)
    assert rules.from_report(report(), active, AT, KEEP) is None


def test_a_country_sees_only_its_own() -> None:
    item = rules.from_report(report(role="supervisor"), None, AT, KEEP)
    assert item is not None
    assert rules.visible_to(item, "KAZ")
    assert not rules.visible_to(item, "UZB")
    shown = rules.view(item, AT)
    assert shown["silences"] is True
    # times in the zone of the country's posts, UTC beside
    assert shown["times"]["expires_at"] == {  # type: ignore[index]
        "local": "2027-02-20 14:00:00", "offset": "+05:00", "utc": "2027-02-20 09:00:00",
        "zone": "Asia/Almaty",
    }  # fmt: skip


def test_an_ended_suppression_is_forgotten_after_the_set_time_and_not_before() -> None:
    forget = timedelta(days=30)
    proposed = rules.from_report(report(), None, AT, KEEP)
    assert proposed is not None
    active = rules.confirmed(proposed, "KAZ-NCB/kaz.super1", AT, KEEP)
    gone = rules.revoked(active, "KAZ-NCB/kaz.super1", "wrong call", AT + timedelta(days=1))
    # active: until it expires, and a month more
    assert not rules.stale(active, AT + KEEP + forget - timedelta(seconds=1), KEEP, forget)
    assert rules.stale(active, AT + KEEP + forget, KEEP, forget)
    # revoked: a month after the revocation
    assert not rules.stale(gone, AT + timedelta(days=30), KEEP, forget)
    assert rules.stale(gone, AT + timedelta(days=31), KEEP, forget)
    # a proposal nobody confirmed lapses as a confirmed one would have
    assert rules.ended_at(proposed, KEEP) == AT + KEEP
