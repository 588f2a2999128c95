"""A configuration file re-read when it changes (no restart needed): the contact-point
directory, the console accounts.

Polling the file's (mtime, size, inode) is deliberate: it also sees Kubernetes ConfigMap and
Secret updates, which swap a symlink rather than write the file. An invalid new version is
logged and ignored; the last good one stays in force.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from services.common.errors import PermanentError
from services.common.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")


class WatchedFile(Generic[T]):
    """``load(path)`` parses the file (raising a ``PermanentError`` when it is invalid);
    calling the object gives the version in force."""

    def __init__(self, path: Path, load: Callable[[Path], T], what: str) -> None:
        self.path = path
        self.load = load
        self.what = what  # names the file in the log: "directory", "accounts"
        self._stamp = self._stat()
        self.current = load(path)
        self.version = 1
        self.changed = asyncio.Event()  # set on every successful reload (tests, admin)
        # told of every reload, taken or refused (what, version in force, taken): the audit
        self.listeners: list[Callable[[str, int, bool], None]] = []

    def __call__(self) -> T:
        return self.current

    def _stat(self) -> tuple[int, int, int]:
        try:
            st = self.path.stat()
        except OSError:
            return (0, 0, 0)
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def check(self) -> bool:
        """Reload if the file changed; True if a new version is in force."""
        stamp = self._stat()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            self.current = self.load(self.path)
        except PermanentError as exc:
            log.error("config_file.reload_failed", file=self.what, error=exc.reason[:500])  # noqa: TRY400 - no trace
            self._tell(taken=False)
            return False
        self.version += 1
        self.changed.set()
        log.info("config_file.reloaded", file=self.what, version=self.version)
        self._tell(taken=True)
        return True

    def _tell(self, *, taken: bool) -> None:
        for listener in self.listeners:
            listener(self.what, self.version, taken)

    async def watch(self, poll_s: float) -> None:
        while True:
            await asyncio.sleep(poll_s)  # a watcher task, never the consumer loop
            self.check()
