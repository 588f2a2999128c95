"""Ingest and the optional travel-party and transport blocks (DESIGN.md)."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from schemas.codec import decode_event
from schemas.event import Consent, PartyRole, TransportMode
from services.ingest.domain.agencies import Agency, hash_key
from services.ingest.domain.intake import Prepared, Rejection, accept
from tests.unit.schemas.examples import EVENT

NOW = dt.datetime(2026, 11, 22, 8, 16, tzinfo=dt.UTC)
KAZ = Agency(id="KAZ-BORDER", countries=frozenset({"KAZ"}), key_sha256=[hash_key("k-kaz")])
PARTY = {"id": "KZ-ALA-AIR-20261122-0042", "role": "guardian", "size": 3, "consent": None}
TRANSPORT = {
    "mode": "air",
    "carrier": "KC",
    "number": "KC931",
    "origin": "KAZ",
    "destination": "IND",
}


def _with(**blocks: object) -> dict[str, object]:
    return copy.deepcopy(EVENT) | blocks


def test_an_event_with_party_and_transport_is_accepted_and_kept() -> None:
    result = accept(_with(party=PARTY, transport=TRANSPORT), KAZ, NOW)
    assert isinstance(result, Prepared)
    assert result.event.party is not None
    assert result.event.transport is not None
    assert result.event.party.role is PartyRole.GUARDIAN
    assert result.event.transport.mode is TransportMode.AIR
    again = decode_event(result.value)
    assert again.party == result.event.party
    assert again.transport == result.event.transport


def test_an_event_without_the_blocks_stays_valid() -> None:
    result = accept(copy.deepcopy(EVENT), KAZ, NOW)
    assert isinstance(result, Prepared)
    assert result.event.party is None
    assert result.event.transport is None


def test_a_minor_consent_is_read() -> None:
    party = {"id": "P-1", "consent": "not_shown"}
    result = accept(_with(party=party), KAZ, NOW)
    assert isinstance(result, Prepared)
    assert result.event.party is not None
    assert result.event.party.role is PartyRole.MEMBER  # the default
    assert result.event.party.consent is Consent.NOT_SHOWN


@pytest.mark.parametrize(
    ("blocks", "field"),
    [
        ({"party": PARTY | {"role": "boss"}}, "party.role"),
        ({"party": PARTY | {"consent": "maybe"}}, "party.consent"),
        ({"party": PARTY | {"id": "P\n1"}}, "party.id"),
        ({"party": PARTY | {"size": 0}}, "party.size"),
        ({"party": {"role": "member"}}, "party.id"),
        ({"party": PARTY | {"leader": "x"}}, "party.leader"),
        ({"transport": TRANSPORT | {"mode": "rocket"}}, "transport.mode"),
        ({"transport": TRANSPORT | {"destination": "IN"}}, "transport.destination"),
        ({"transport": TRANSPORT | {"number": "KC\x00931"}}, "transport.number"),
        ({"transport": TRANSPORT | {"carrier": "K\u0085C"}}, "transport.carrier"),
    ],
)
def test_a_bad_block_is_refused_naming_the_field(blocks: dict[str, object], field: str) -> None:
    result = accept(_with(**blocks), KAZ, NOW)
    assert isinstance(result, Rejection)
    assert result.status == 422
    assert field in {e["field"] for e in result.errors}, result.errors
