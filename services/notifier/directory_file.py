"""The contact-point directory file, re-read when it changes (no restart needed).

Polling the file's (mtime, size, inode) is deliberate: it also sees Kubernetes ConfigMap and
Secret updates, which swap a symlink rather than write the file. An invalid new version is
logged and ignored; the last good directory stays in force.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml
from pydantic import ValidationError

from services.common.logging import get_logger
from services.notifier.channels.registry import SPECS
from services.notifier.domain.directory import Directory
from services.notifier.errors import DirectoryError

log = get_logger(__name__)


def load_directory(path: Path) -> Directory:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Directory.parse(raw, SPECS)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise DirectoryError(f"contact-point directory {path}: {exc}") from exc


class DirectoryFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp = self._stat()
        self.current = load_directory(path)
        self.version = 1
        self.changed = asyncio.Event()  # set on every successful reload (tests, admin)

    def __call__(self) -> Directory:
        return self.current

    def _stat(self) -> tuple[int, int, int]:
        try:
            st = self.path.stat()
        except OSError:
            return (0, 0, 0)
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def check(self) -> bool:
        """Reload if the file changed; True if a new directory is in force."""
        stamp = self._stat()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            self.current = load_directory(self.path)
        except DirectoryError as exc:
            log.error("directory.reload_failed", error=exc.reason[:500])  # noqa: TRY400 - no trace
            return False
        self.version += 1
        self.changed.set()
        log.info(
            "directory.reloaded", version=self.version, points=len(self.current.contact_points)
        )
        return True

    async def watch(self, poll_s: float) -> None:
        while True:
            await asyncio.sleep(poll_s)  # a watcher task, never the consumer loop
            self.check()
