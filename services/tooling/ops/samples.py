"""The end-offset samples ``relay status`` keeps between runs (a small JSON file under .relay/).

Each run appends its sample and keeps those of the last ``KEEP_S`` seconds, so the next run can
compute rates over about a minute and see whether a dead-letter topic grew since the last look.
The file is per bootstrap and topic prefix: two clusters never share a baseline.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from pydantic import TypeAdapter

from services.common.settings import REPO_ROOT, CommonSettings
from services.tooling.ops.status import Sample

KEEP_S = 600.0
_SAMPLES = TypeAdapter(list[Sample])


def default_path(settings: CommonSettings) -> Path:
    key = hashlib.sha256(f"{settings.kafka_bootstrap}|{settings.topic_prefix}".encode())
    return REPO_ROOT / ".relay" / "status" / f"{key.hexdigest()[:16]}.json"


def load(path: Path) -> list[Sample]:
    if not path.exists():
        return []
    try:
        return _SAMPLES.validate_json(path.read_bytes())
    except ValueError:
        return []  # a damaged state file costs one run's rates, nothing more


def save(path: Path, samples: list[Sample], latest: Sample) -> None:
    """Keep the recent samples plus ``latest``; written atomically (rename)."""
    kept = [s for s in samples if latest.at - s.at <= KEEP_S and s.at < latest.at]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([s.model_dump() for s in [*kept, latest]]), encoding="utf-8")
    os.replace(tmp, path)
