"""Is a raw Kafka record from the agency it names? (The scheme is in ``schemas.intake``.)

The signing time is compared with the time the record was written to ``ingest.raw`` (its
Kafka timestamp), never with ingest's clock: a backlog read after an outage is not stale.
A record put back by ``relay dlq replay`` is written again, later, with its first signature:
that one may be as old as the replay window (the dead-letter topic's retention). The replay
headers are not signed, so the window bounds how old a copied record can be and still pass;
such a copy carries its first ``event_id``, which makes it a duplicate downstream.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.headers import H_AGENCY, H_SIGNATURE, H_SIGNATURE_TIMESTAMP
from schemas.intake import TIMESTAMP, Refusal, signature_matches, signed_content
from services.ingest.domain.agencies import Agency, AgencyDirectory


@dataclass(frozen=True)
class Window:
    tolerance_s: float  # either side of the time the record was written
    replay_s: float  # how much older a replayed record's signature may be


@dataclass(frozen=True)
class RawClaim:
    """What a raw record says of itself (its headers as text) and when it was written."""

    agency: str | None
    signature: str | None
    timestamp: str | None
    key: bytes | None
    value: bytes
    written_at_s: float
    replayed: bool = False


@dataclass(frozen=True)
class Unbound:
    """Why the record is not bound to an agency, and the header at fault."""

    refusal: Refusal
    header: str
    detail: str = ""

    @property
    def reason(self) -> str:
        return f"{self.refusal.value} ({self.detail})" if self.detail else self.refusal.value


def bind(claim: RawClaim, directory: AgencyDirectory, window: Window) -> Agency | Unbound:
    """The agency that signed the record, or why it cannot be trusted to be that agency."""
    agency = directory.by_id(claim.agency)
    if agency is None:
        refusal = Refusal.UNKNOWN_AGENCY if claim.agency else Refusal.NO_AGENCY
        return Unbound(refusal, H_AGENCY)
    if not agency.intake_keys:
        return Unbound(Refusal.NOT_ENROLLED, H_AGENCY)
    return _signature_fault(claim, agency, window) or agency


def _signature_fault(claim: RawClaim, agency: Agency, window: Window) -> Unbound | None:
    if not claim.signature:
        return Unbound(Refusal.NO_SIGNATURE, H_SIGNATURE)
    if not claim.timestamp:
        return Unbound(Refusal.NO_TIMESTAMP, H_SIGNATURE_TIMESTAMP)
    if not TIMESTAMP.fullmatch(claim.timestamp):
        return Unbound(Refusal.BAD_TIMESTAMP, H_SIGNATURE_TIMESTAMP)
    content = signed_content(agency.id, claim.key, claim.timestamp, claim.value)
    if not signature_matches(claim.signature, content, agency.intake_keys):
        return Unbound(Refusal.BAD_SIGNATURE, H_SIGNATURE)
    return _outside(int(claim.timestamp) - claim.written_at_s, claim.replayed, window)


def _outside(offset_s: float, replayed: bool, window: Window) -> Unbound | None:
    """``offset_s``: signing time minus writing time."""
    before = window.replay_s if replayed else window.tolerance_s
    if -before <= offset_s <= window.tolerance_s:
        return None
    when, allowed = ("before", before) if offset_s < 0 else ("after", window.tolerance_s)
    detail = f"signed {abs(offset_s):.0f} s {when} it was written, at most {allowed:.0f} s"
    return Unbound(Refusal.STALE, H_SIGNATURE_TIMESTAMP, detail)
