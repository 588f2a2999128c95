"""Analyst settings (``RELAY_ANALYST_*`` plus the common ``RELAY_*``).

Every threshold of the patterns (``domain/params.py``) is a field here; ``params()`` builds the
domain's ``Params`` from them.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from schemas.topics import TopicName
from services.analyst.domain import params as p
from services.common.settings import CommonSettings, strong_secret

_D = p.Params()  # the domain's defaults: one home for each number


class AnalystSettings(CommonSettings):
    analyst_group_id: str = Field(
        "analyst", description="Consumer group copying events and hits into the history topic"
    )
    analyst_http_host: str = Field("127.0.0.1", description="Bind address of /healthz, /metrics")
    analyst_http_port: int = Field(9102, description="Port of /healthz, /readyz and /metrics")
    analyst_event_topics: list[TopicName] = Field(
        ["events.border_crossing", "events.document_check"], description="Event topics"
    )
    analyst_pseudonym_key: SecretStr = Field(
        ..., description="Key of the HMAC pseudonyms of the history and of lead ids (>= 32 chars)"
    )
    analyst_retention_days: int = Field(
        _D.retention_days, ge=1, description="History older than this is purged (days)"
    )
    analyst_purge_every_days: int = Field(
        _D.purge_every_days, ge=1, description="How often the purge runs (days of stream time)"
    )
    analyst_commit_interval_s: float = Field(
        1.0, gt=0, description="How often copied offsets are committed (seconds)"
    )
    analyst_state_dir: Path | None = Field(
        None,
        description="Directory of the snapshot of the analysis state (personal data: a "
        "private volume), so a restart replays only the history after it; unset: no "
        "snapshot, the whole history is replayed at every start",
    )
    analyst_snapshot_interval_s: float = Field(
        300.0,
        gt=0,
        description="How often the state is snapshotted while following (seconds; a "
        "snapshot also after each rebuild and on a graceful stop)",
    )
    # serial_escort
    analyst_serial_escort_window_days: int = Field(_D.serial_escort.window_days, ge=1,
        description="serial_escort: window (days)")  # fmt: skip
    analyst_serial_escort_min_crossings: int = Field(_D.serial_escort.min_crossings, ge=2,
        description="serial_escort: separate crossings with unrelated minors")  # fmt: skip
    analyst_serial_escort_min_score: float = Field(_D.serial_escort.min_score, ge=0, le=1,
        description="serial_escort: minimum score")  # fmt: skip
    # associate_of_listed
    analyst_associate_window_days: int = Field(_D.associate_of_listed.window_days, ge=1,
        description="associate_of_listed: window (days)")  # fmt: skip
    analyst_associate_min_occasions: int = Field(_D.associate_of_listed.min_occasions, ge=1,
        description="associate_of_listed: trips beside the listed person")  # fmt: skip
    analyst_associate_min_score: float = Field(_D.associate_of_listed.min_score, ge=0, le=1,
        description="associate_of_listed: minimum score")  # fmt: skip
    # document_many_identities
    analyst_document_identities_window_days: int = Field(
        _D.document_many_identities.window_days, ge=1,
        description="document_many_identities: window (days)")  # fmt: skip
    analyst_document_identities_min_identities: int = Field(
        _D.document_many_identities.min_identities, ge=2,
        description="document_many_identities: different identities")  # fmt: skip
    analyst_document_identities_min_score: float = Field(
        _D.document_many_identities.min_score, ge=0, le=1,
        description="document_many_identities: minimum score")  # fmt: skip
    # identity_many_documents
    analyst_identity_documents_window_days: int = Field(
        _D.identity_many_documents.window_days, ge=1,
        description="identity_many_documents: window (days)")  # fmt: skip
    analyst_identity_documents_min_documents: int = Field(
        _D.identity_many_documents.min_documents, ge=2,
        description="identity_many_documents: different documents")  # fmt: skip
    analyst_identity_documents_min_score: float = Field(
        _D.identity_many_documents.min_score, ge=0, le=1,
        description="identity_many_documents: minimum score")  # fmt: skip
    # minor_repeated_crossings
    analyst_minor_crossings_window_days: int = Field(
        _D.minor_repeated_crossings.window_days, ge=1,
        description="minor_repeated_crossings: window (days)")  # fmt: skip
    analyst_minor_crossings_min_crossings: int = Field(
        _D.minor_repeated_crossings.min_crossings, ge=2,
        description="minor_repeated_crossings: crossings alone or with unrelated adults",
    )  # fmt: skip
    analyst_minor_crossings_min_score: float = Field(
        _D.minor_repeated_crossings.min_score, ge=0, le=1,
        description="minor_repeated_crossings: minimum score")  # fmt: skip
    # flow_surge
    analyst_surge_baseline_weeks: int = Field(_D.flow_surge.baseline_weeks, ge=1,
        description="flow_surge: weeks before the current one forming the baseline")  # fmt: skip
    analyst_surge_min_baseline_weeks: int = Field(_D.flow_surge.min_baseline_weeks, ge=1,
        description="flow_surge: weeks of history before any verdict")  # fmt: skip
    analyst_surge_min_count: int = Field(_D.flow_surge.min_count, ge=1,
        description="flow_surge: crossings in the week, at least")  # fmt: skip
    analyst_surge_min_statistic: float = Field(_D.flow_surge.min_statistic, gt=0,
        description="flow_surge: robust z of the week against its baseline")  # fmt: skip
    analyst_surge_min_score: float = Field(_D.flow_surge.min_score, ge=0, le=1,
        description="flow_surge: minimum score")  # fmt: skip

    @field_validator("analyst_pseudonym_key")
    @classmethod
    def _key_is_strong(cls, value: SecretStr) -> SecretStr:
        return strong_secret(value, "analyst_pseudonym_key")

    def event_topics(self) -> list[str]:
        return [self.topic(name) for name in self.analyst_event_topics]

    def key(self) -> bytes:
        return self.analyst_pseudonym_key.get_secret_value().encode()

    def params(self) -> p.Params:
        return p.Params(
            serial_escort=p.SerialEscort(
                self.analyst_serial_escort_window_days,
                self.analyst_serial_escort_min_crossings,
                self.analyst_serial_escort_min_score,
            ),
            associate_of_listed=p.AssociateOfListed(
                self.analyst_associate_window_days,
                self.analyst_associate_min_occasions,
                self.analyst_associate_min_score,
            ),
            document_many_identities=p.DocumentManyIdentities(
                self.analyst_document_identities_window_days,
                self.analyst_document_identities_min_identities,
                self.analyst_document_identities_min_score,
            ),
            identity_many_documents=p.IdentityManyDocuments(
                self.analyst_identity_documents_window_days,
                self.analyst_identity_documents_min_documents,
                self.analyst_identity_documents_min_score,
            ),
            minor_repeated_crossings=p.MinorRepeatedCrossings(
                self.analyst_minor_crossings_window_days,
                self.analyst_minor_crossings_min_crossings,
                self.analyst_minor_crossings_min_score,
            ),
            flow_surge=p.FlowSurge(
                self.analyst_surge_baseline_weeks,
                self.analyst_surge_min_baseline_weeks,
                self.analyst_surge_min_count,
                self.analyst_surge_min_statistic,
                self.analyst_surge_min_score,
            ),
            retention_days=self.analyst_retention_days,
            purge_every_days=self.analyst_purge_every_days,
        )
