"""Thresholds of the six patterns: each a frozen dataclass, with defaults an analyst can tune.

The service's settings fill these (one field per threshold); ``relay analyse`` uses the
defaults. Windows are in days; scores are in [0, 1].
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SerialEscort:
    window_days: int = 60
    min_crossings: int = 3  # separate crossings, each with a new unrelated minor
    min_score: float = 0.6


@dataclass(frozen=True)
class AssociateOfListed:
    window_days: int = 90
    min_occasions: int = 2  # trips together with the listed person (one with a yellow-notice minor)
    min_score: float = 0.6


@dataclass(frozen=True)
class DocumentManyIdentities:
    window_days: int = 90
    min_identities: int = 2
    min_score: float = 0.6


@dataclass(frozen=True)
class IdentityManyDocuments:
    window_days: int = 60
    min_documents: int = 3  # or two of one state used in turn (A, B, A): not a renewal
    min_score: float = 0.6


@dataclass(frozen=True)
class MinorRepeatedCrossings:
    window_days: int = 60
    min_crossings: int = 3  # alone, or with adults not of the minor's family
    min_score: float = 0.6


@dataclass(frozen=True)
class FlowSurge:
    baseline_weeks: int = 8  # weeks before the current one that form the baseline
    min_baseline_weeks: int = 4  # no verdict on a route before this much history
    min_count: int = 15  # a surge is at least this many crossings in the week
    min_statistic: float = 6.0  # robust z of the week's count against the baseline
    min_score: float = 0.6


@dataclass(frozen=True)
class Params:
    serial_escort: SerialEscort = field(default_factory=SerialEscort)
    associate_of_listed: AssociateOfListed = field(default_factory=AssociateOfListed)
    document_many_identities: DocumentManyIdentities = field(default_factory=DocumentManyIdentities)
    identity_many_documents: IdentityManyDocuments = field(default_factory=IdentityManyDocuments)
    minor_repeated_crossings: MinorRepeatedCrossings = field(default_factory=MinorRepeatedCrossings)
    flow_surge: FlowSurge = field(default_factory=FlowSurge)
    retention_days: int = 90  # history older than this is purged
    purge_every_days: int = 1  # how often the purge runs (it walks the whole history)

    @property
    def retention(self) -> dt.timedelta:
        return dt.timedelta(days=self.retention_days)

    @property
    def purge_every(self) -> dt.timedelta:
        return dt.timedelta(days=self.purge_every_days)
