"""The agencies file on disk, re-read whenever it changes, so keys rotate without a restart."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from schemas.errors import describe_errors
from services.common.logging import get_logger
from services.ingest.domain.agencies import AgencyDirectory
from services.ingest.errors import AgenciesFileError

log = get_logger(__name__)

_Signature = tuple[int, int, int]


def load_agencies(path: Path) -> AgencyDirectory:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return AgencyDirectory.model_validate(raw)
    except ValidationError as exc:
        # Paths and messages only: pydantic's own text quotes the input, intake secrets too.
        problems = "; ".join(f"{e['field']}: {e['message']}" for e in describe_errors(exc))
        raise AgenciesFileError(f"{path}: ValidationError: {problems[:500]}") from None
    except yaml.YAMLError as exc:
        raise AgenciesFileError(f"{path}: YAMLError: {_yaml_problem(exc)}") from None
    except (OSError, ValueError) as exc:
        raise AgenciesFileError(f"{path}: {type(exc).__name__}: {str(exc)[:500]}") from exc


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """What and where, without PyYAML's quote of the offending line (it may hold a secret)."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"{exc.problem} at line {mark.line + 1}, column {mark.column + 1}"
    return type(exc).__name__


def _signature(path: Path) -> _Signature | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


@dataclass
class AgenciesFile:
    """Holds the current directory; ``current()`` re-reads the file when its stat changed.

    A broken new version is logged and ignored: the last good directory stays in force, so a
    typo during key rotation locks nobody out.
    """

    path: Path
    directory: AgencyDirectory
    signature: _Signature | None

    @classmethod
    def open(cls, path: Path) -> AgenciesFile:
        signature = _signature(path)
        return cls(path=path, directory=load_agencies(path), signature=signature)

    def current(self) -> AgencyDirectory:
        signature = _signature(self.path)
        if signature is not None and signature != self.signature:
            self.signature = signature
            try:
                self.directory = load_agencies(self.path)
            except AgenciesFileError as exc:
                log.warning("agencies.reload_failed", reason=exc.reason)
            else:
                log.info("agencies.reloaded", agencies=len(self.directory.agencies))
        return self.directory
