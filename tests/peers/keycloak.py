"""Keycloak (``make keycloak``) as a real OpenID Connect provider: started on free ports with
an in-memory database and the test realm (deploy/keycloak-local/realm-relay-test.json)
imported at start; stopped, process group and all, afterwards."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from services.tooling.keycloak_local import LOCAL_DIR, fetch, java_env
from tests.support.broker import free_port

REALM_FILE = LOCAL_DIR / "realm-relay-test.json"
START_TIMEOUT_S = 300.0  # 10-90 s, depending on how busy the machine is


@dataclass(frozen=True)
class Keycloak:
    base_url: str
    realm: dict[str, object]

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/{self.realm['realm']}"

    def client(self) -> tuple[str, str]:
        clients: list[dict[str, str]] = self.realm["clients"]  # type: ignore[assignment]
        return clients[0]["clientId"], clients[0]["secret"]

    def user(self, username: str) -> tuple[str, str]:
        """(subject, password) of a test user."""
        users: list[dict[str, Any]] = self.realm["users"]  # type: ignore[assignment]
        found = next(u for u in users if u["username"] == username)
        return str(found["id"]), str(found["credentials"][0]["value"])


@contextmanager
def running_keycloak(workdir: Path) -> Iterator[Keycloak]:
    home = fetch()
    imports = home / "data" / "import"  # what --import-realm reads
    imports.mkdir(parents=True, exist_ok=True)
    shutil.copy(REALM_FILE, imports / REALM_FILE.name)
    port, management = free_port(), free_port()
    env = {**java_env(), "JAVA_OPTS_KC_HEAP": "-Xms64m -Xmx512m"}
    log_path = workdir / "keycloak.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(home / "bin" / "kc.sh"), "start", "--optimized", "--import-realm",
             "--http-enabled=true", "--hostname-strict=false", "--cache=local",
             f"--http-port={port}", f"--http-management-port={management}",
             "--http-host=127.0.0.1"],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    realm = json.loads(REALM_FILE.read_text("utf-8"))
    found = Keycloak(f"http://127.0.0.1:{port}", realm)
    try:
        _wait_ready(found, process, log_path)
        yield found
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_ready(keycloak: Keycloak, process: subprocess.Popen[bytes], log_path: Path) -> None:
    url = f"{keycloak.issuer}/.well-known/openid-configuration"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Keycloak exited:\n{log_path.read_text(errors='replace')[-4000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)  # a process start, polled: Keycloak offers no other signal
    raise TimeoutError(f"Keycloak not ready:\n{log_path.read_text(errors='replace')[-4000:]}")
