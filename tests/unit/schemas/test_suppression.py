"""A suppression names one traveller (document, name, birth date) and one entry, at one
country's posts: another person of the same name and birth date is a different pair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from schemas.codec import decode, encode
from schemas.event import TravelDocument, Traveller
from schemas.suppression import (
    Suppression,
    SuppressionState,
    TravellerIdentity,
    suppression_id_for,
)

AT = datetime(2026, 11, 22, 8, 15, tzinfo=UTC)


def identity(number: str = "ZZ1111111", surname: str = "KHOLMATOV") -> TravellerIdentity:
    return TravellerIdentity(
        surname=surname, given_names="ALISHER", date_of_birth="1985-03-02",
        document_number=number, issuing_state="UZB",
    )  # fmt: skip


def active(who: TravellerIdentity | None = None, **changes: object) -> Suppression:
    who = who or identity()
    fields: dict[str, object] = {
        "suppression_id": suppression_id_for("KAZ", "RED-T-1", who), "state": "active",
        "entry_id": "RED-T-1", "list": "red_notice", "issuer": "UZB", "country": "KAZ",
        "identity": who, "alert_id": "a-" + "0" * 32, "reported_by": "KAZ-NCB/kaz.duty1",
        "reported_at": AT, "confirmed_by": "KAZ-NCB/kaz.super1", "confirmed_at": AT,
        "expires_at": AT + timedelta(days=90), **changes,
    }  # fmt: skip
    return Suppression.model_validate(fields)


def test_same_person_same_document_is_one_pair_whatever_the_spelling_of_case_and_spaces() -> None:
    typed = TravellerIdentity(
        surname="Kholmatov ", given_names="alisher", date_of_birth="1985-03-02",
        document_number="zz 111-1111", issuing_state="UZB",
    )  # fmt: skip
    assert suppression_id_for("KAZ", "RED-T-1", typed) == suppression_id_for(
        "KAZ", "RED-T-1", identity()
    )


def test_same_name_and_birth_date_with_another_document_is_another_pair() -> None:
    assert suppression_id_for("KAZ", "RED-T-1", identity("ZZ2222222")) != suppression_id_for(
        "KAZ", "RED-T-1", identity()
    )


def test_another_entry_or_country_is_another_pair() -> None:
    first = suppression_id_for("KAZ", "RED-T-1", identity())
    assert suppression_id_for("KAZ", "RED-T-2", identity()) != first
    assert suppression_id_for("UZB", "RED-T-1", identity()) != first


def test_no_document_no_identity() -> None:
    traveller = Traveller(surname="KHOLMATOV", given_names="ALISHER", date_of_birth="1985-03-02")
    assert TravellerIdentity.of(traveller, None) is None
    document = TravelDocument(number="ZZ1111111", issuing_state="UZB")
    assert TravellerIdentity.of(traveller, document) == identity()


def test_silences_until_it_expires_and_never_once_revoked() -> None:
    item = active()
    assert item.silences(AT + timedelta(days=1))
    assert not item.silences(AT + timedelta(days=90))
    revoked = item.model_copy(update={"state": SuppressionState.REVOKED})
    assert not revoked.silences(AT + timedelta(days=1))
    assert decode(Suppression, encode(item)) == item


def test_a_document_hit_is_never_suppressed() -> None:
    with pytest.raises(ValidationError, match="document hit"):
        active(kind="document")
    with pytest.raises(ValidationError, match="document hit"):
        active(list="sltd")


def test_the_id_must_name_the_identity_and_entry() -> None:
    with pytest.raises(ValidationError, match="suppression_id"):
        active(identity=identity("ZZ9999999"))


def test_active_needs_an_expiry() -> None:
    with pytest.raises(ValidationError, match="expires_at"):
        active(expires_at=None)
    assert active(state="pending", expires_at=None).state == SuppressionState.PENDING
