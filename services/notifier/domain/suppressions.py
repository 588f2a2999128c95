"""A false-match suppression's life, pure: proposed by a duty officer's ``false_match``,
active when a supervisor gave or confirmed it, revoked by a supervisor (or by a later other
outcome for the same alert); it expires by itself (``Suppression.silences``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from schemas.alert import AlertKind
from schemas.hit_report import HitReport, OutcomeCode
from schemas.suppression import (
    Suppression,
    SuppressionState,
    TravellerIdentity,
    suppression_id_for,
)
from services.notifier.domain import clock

SUPERVISOR = "supervisor"  # the role (console ``Role.SUPERVISOR``) whose word suppresses


class NotSuppressible(ValueError):
    """This report or request cannot change a suppression (the reason says why)."""


def identity_of(report: HitReport) -> TravellerIdentity:
    if report.traveller is None:
        raise NotSuppressible("the report names no traveller")
    identity = TravellerIdentity.of(report.traveller, report.event_document)
    if identity is None:
        raise NotSuppressible("the traveller presented no document: no identity to suppress")
    return identity


def from_report(
    report: HitReport, existing: Suppression | None, now: datetime, keep_for: timedelta
) -> Suppression | None:
    """The pair's new state after this report, or None when it changes nothing.

    A ``false_match`` proposes (duty officer) or activates (supervisor) a suppression of the
    pair at the reporting country's posts. Another outcome for the alert a suppression came
    from withdraws a proposal, and a supervisor's withdraws an active one as well.
    """
    if report.kind != AlertKind.PERSON:
        if report.outcome == OutcomeCode.FALSE_MATCH:
            raise NotSuppressible("a document hit is never suppressed")
        return None
    by_supervisor = report.answered_by_role == SUPERVISOR
    if report.outcome != OutcomeCode.FALSE_MATCH:
        if existing is None or existing.alert_id != report.alert_id:
            return None
        if existing.state == SuppressionState.PENDING or (
            existing.state == SuppressionState.ACTIVE and by_supervisor
        ):
            return revoked(existing, report.answered_by, f"answered {report.outcome}", now)
        return None
    if existing is not None and existing.silences(now) and not by_supervisor:
        return None  # already suppressed: an officer's word adds nothing
    identity = identity_of(report)
    proposed = Suppression(
        suppression_id=suppression_id_for(report.country, report.entry_id, identity),
        state=SuppressionState.PENDING, entry_id=report.entry_id, list=report.list,
        kind=report.kind, issuer=report.issuer, country=report.country, identity=identity,
        alert_id=report.alert_id, comment=report.comment, reported_by=report.answered_by,
        reported_at=report.at,
    )  # fmt: skip
    return confirmed(proposed, report.answered_by, now, keep_for) if by_supervisor else proposed


def confirmed(item: Suppression, actor: str, now: datetime, keep_for: timedelta) -> Suppression:
    if item.state == SuppressionState.REVOKED:
        raise NotSuppressible("state: a revoked suppression cannot be confirmed")
    return item.model_copy(
        update={
            "state": SuppressionState.ACTIVE,
            "confirmed_by": actor,
            "confirmed_at": now,
            "expires_at": now + keep_for,
        }
    )


def revoked(item: Suppression, actor: str, reason: str | None, now: datetime) -> Suppression:
    if item.state == SuppressionState.REVOKED:
        raise NotSuppressible("state: already revoked")
    return item.model_copy(
        update={
            "state": SuppressionState.REVOKED,
            "revoked_by": actor,
            "revoked_at": now,
            "revoke_reason": reason,
            # a pending one gets an expiry too, so that the record stays valid
            "expires_at": item.expires_at or now,
        }
    )


def ended_at(item: Suppression, keep_for: timedelta) -> datetime:
    """When the suppression stopped (or stops) mattering: revoked, expired, or a proposal that
    nobody confirmed within the time a confirmed one would have lasted."""
    if item.state == SuppressionState.REVOKED and item.revoked_at is not None:
        return item.revoked_at
    if item.state == SuppressionState.ACTIVE and item.expires_at is not None:
        return item.expires_at
    return item.reported_at + keep_for


def stale(item: Suppression, now: datetime, keep_for: timedelta, forget_after: timedelta) -> bool:
    """Ended long enough ago that the traveller's identity is kept no longer."""
    return ended_at(item, keep_for) + forget_after <= now


def visible_to(item: Suppression, country: str) -> bool:
    """A country's supervisors see and revoke the suppressions of its own posts."""
    return item.country == country


def view(item: Suppression, now: datetime) -> dict[str, object]:
    """The console's row: the record, whether it silences the pair now, and its times in the
    zone of the country's posts with UTC beside (``clock.stamp``)."""
    data = item.model_dump(mode="json", exclude_none=True)
    data["silences"] = item.silences(now)
    data["expired"] = item.expires_at is not None and item.expires_at <= now
    times = {
        "reported_at": item.reported_at, "confirmed_at": item.confirmed_at,
        "expires_at": item.expires_at, "revoked_at": item.revoked_at,
    }  # fmt: skip
    data["times"] = {
        name: clock.stamp(at, clock.post_zone(at, item.country))
        for name, at in times.items()
        if at is not None
    }
    return data
