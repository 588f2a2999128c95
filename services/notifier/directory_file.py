"""The contact-point directory file, re-read when it changes (``watched_file``)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from services.notifier.channels.registry import SPECS
from services.notifier.domain.directory import Directory
from services.notifier.errors import DirectoryError
from services.notifier.watched_file import WatchedFile


def load_directory(path: Path) -> Directory:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Directory.parse(raw, SPECS)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise DirectoryError(f"contact-point directory {path}: {exc}") from exc


class DirectoryFile(WatchedFile[Directory]):
    def __init__(self, path: Path) -> None:
        super().__init__(path, load_directory, "directory")
