"""Keycloak, a real OpenID Connect provider, for the console's OIDC sign-in tests
(``make keycloak``, then ``tests/peers/keycloak.py`` starts it with a realm imported).

The distribution comes from Maven Central (org.keycloak:keycloak-quarkus-dist) into a
git-ignored cache; a second fetch finds it and needs no network. Keycloak 26 needs Java 21 or
newer: the first such JDK under /usr/lib/jvm is used unless RELAY_KEYCLOAK_JAVA_HOME says.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from services.common.settings import REPO_ROOT

VERSION = "26.4.7"
ARTIFACT = f"org.keycloak:keycloak-quarkus-dist:{VERSION}:zip"
LOCAL_DIR = REPO_ROOT / "deploy" / "keycloak-local"
CACHE = LOCAL_DIR / "cache"
HOME = CACHE / f"keycloak-{VERSION}"
COPY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy"
MIN_JAVA = 21
BUILT = ".relay-built"  # marks a home whose build step ran
ADD_OPENS = "--add-opens=java.base/java.lang=ALL-UNNAMED"


class KeycloakError(RuntimeError):
    """Keycloak could not be fetched, or no JDK can run it."""


def fetch() -> Path:
    """The unpacked and built distribution (its home), fetched and built once."""
    if not (HOME / "bin" / "kc.sh").exists():
        _unpack()
    if not (HOME / BUILT).exists():
        _build()
    return HOME


def java_env() -> dict[str, str]:
    """The environment Keycloak's scripts run with."""
    # Java 24+ refuses JBoss Threads' thread-local reset without this.
    return {**os.environ, "JAVA_HOME": str(java_home()), "JAVA_OPTS_APPEND": ADD_OPENS}


def _build() -> None:
    """Keycloak's build step, once: an in-memory database, so each start is a clean one."""
    done = subprocess.run(
        [str(HOME / "bin" / "kc.sh"), "build", "--db=dev-mem"],
        env=java_env(), capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if done.returncode != 0:
        raise KeycloakError(f"Keycloak's build failed:\n{done.stdout[-3000:]}")
    (HOME / BUILT).touch()


def _unpack() -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / f"keycloak-quarkus-dist-{VERSION}.zip"
    if not archive.exists():
        command = ["mvn", "-q", "-B", COPY_PLUGIN, f"-Dartifact={ARTIFACT}"]
        done = subprocess.run(
            [*command, f"-DoutputDirectory={CACHE}"], capture_output=True, text=True, timeout=900
        )
        if done.returncode != 0 or not archive.exists():
            raise KeycloakError(f"maven could not fetch Keycloak:\n{done.stdout[-3000:]}")
    unpacking = CACHE / "unpacking"
    shutil.rmtree(unpacking, ignore_errors=True)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(unpacking)
    for script in (unpacking / f"keycloak-{VERSION}" / "bin").glob("*.sh"):
        script.chmod(0o755)  # zip files keep no modes
    (unpacking / f"keycloak-{VERSION}").rename(HOME)
    unpacking.rmdir()


def java_home() -> Path:
    """A JDK that runs Keycloak (``RELAY_KEYCLOAK_JAVA_HOME``, else the newest >= 21)."""
    chosen = os.environ.get("RELAY_KEYCLOAK_JAVA_HOME")
    candidates = [Path(chosen)] if chosen else sorted(Path("/usr/lib/jvm").glob("*"))
    found = [(v, c) for c in candidates if (v := _java_version(c)) >= MIN_JAVA]
    if not found:
        raise KeycloakError(f"Keycloak {VERSION} needs Java {MIN_JAVA}+: none in /usr/lib/jvm")
    return max(found)[1]


def _java_version(home: Path) -> int:
    try:
        release = (home / "release").read_text("utf-8")
    except OSError:
        return 0
    found = re.search(r'^JAVA_VERSION="(\d+)', release, re.MULTILINE)
    return int(found.group(1)) if found and (home / "bin" / "java").exists() else 0


if __name__ == "__main__":
    try:
        print(f"Keycloak {VERSION} in {fetch()}, Java in {java_home()}")
    except KeycloakError as exc:
        sys.exit(str(exc))
