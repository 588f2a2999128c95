"""The whole relay as subprocesses for the end-to-end benchmark: demo directory, receiver,
matcher, ingest and notifier on free ports, with logs in a temporary directory.

Every child runs in its own process group (``ServiceProcess``) with the temporary directory as
its working directory, and ``Stack.stop`` ends them all.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.support import free_port
from services.common.settings import REPO_ROOT, CommonSettings
from services.demo.directory import DemoPaths, init_demo, service_secrets
from services.demo.watchlist_gen import WatchlistSpec
from tests.support.process import ServiceProcess

RELAY_CLI = ["-m", "services.cli.main"]
READY_TIMEOUT_S = 120.0


class Child(ServiceProcess):
    """A ``ServiceProcess`` with arguments and a working directory of its own."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path, cwd: Path) -> None:
        super().__init__(argv[1] if argv[0] == "-m" else argv[0], env, log_path)
        self.argv = argv
        self.cwd = cwd

    def start(self) -> Child:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, *self.argv], env=self.env, cwd=self.cwd, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        return self


def _process_cpu(pid: int, tick: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / tick


def broker_pid(bootstrap: str) -> int | None:
    """The local broker's JVM: the process whose server.properties listens on our port."""
    port = f":{bootstrap.rsplit(':', 1)[-1]}"
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            configs = [a.decode() for a in args if a.endswith(b"server.properties")]
            if configs and port in Path(configs[-1]).read_text():
                return int(proc.name)
        except (OSError, ValueError):
            continue
    return None


@dataclass(frozen=True)
class Ports:
    ingest: int = field(default_factory=free_port)
    matcher: int = field(default_factory=free_port)
    notifier: int = field(default_factory=free_port)
    receiver: int = field(default_factory=free_port)

    def url(self, name: str, path: str = "") -> str:
        return f"http://127.0.0.1:{getattr(self, name)}{path}"


@dataclass
class Stack:
    settings: CommonSettings
    workdir: Path
    ports: Ports = field(default_factory=Ports)
    children: dict[str, Child] = field(default_factory=dict)
    broker_pid: int | None = None

    @property
    def demo(self) -> DemoPaths:
        return DemoPaths(self.workdir / "demo")

    def environment(self) -> dict[str, str]:
        p = self.ports
        return {
            **service_environment(self.settings, self.demo),
            "RELAY_INGEST_HTTP_PORT": str(p.ingest),
            "RELAY_MATCHER_HTTP_PORT": str(p.matcher),
            "RELAY_NOTIFIER_HTTP_PORT": str(p.notifier),
            "RELAY_NOTIFIER_PUBLIC_URL": p.url("notifier"),
        }

    def _start(self, name: str, argv: list[str]) -> Child:
        child = Child(argv, self.environment(), self.workdir / f"{name}.log", self.workdir)
        self.children[name] = child.start()
        return child

    def start(self) -> int:
        """Start everything, load the demo watchlist; returns its number of entries."""
        summary = init_demo(self.demo.root, self.ports.url("receiver"), WatchlistSpec())
        receiver = self._start(
            "receiver",
            [*RELAY_CLI, "demo", "receiver", "--port", str(self.ports.receiver),
             "--dir", str(self.demo.root)],
        )  # fmt: skip
        matcher = self._start("matcher", ["-m", "services.matcher"])
        ingest = self._start("ingest", ["-m", "services.ingest"])
        notifier = self._start("notifier", ["-m", "services.notifier"])
        receiver.wait_http(self.ports.url("receiver", "/received"), READY_TIMEOUT_S)
        matcher.wait_http(self.ports.url("matcher", "/readyz"), READY_TIMEOUT_S)
        self.load_watchlist()
        self.wait_entries(summary.watchlist_entries)
        ingest.wait_http(self.ports.url("ingest", "/readyz"), READY_TIMEOUT_S)
        notifier.wait_http(self.ports.url("notifier", "/readyz"), READY_TIMEOUT_S)
        return summary.watchlist_entries

    def load_watchlist(self) -> None:
        load_watchlist(self.workdir, self.demo.watchlist, self.environment())

    def wait_entries(self, expected: int) -> None:
        """Until the matcher's index holds the whole demo watchlist."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        seen = -1
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                body = httpx.get(self.ports.url("matcher", "/readyz"), timeout=2).json()
                seen = int(body.get("watchlist_entries", -1))
            except (httpx.HTTPError, ValueError):
                pass
            if seen >= expected:
                return
            time.sleep(0.2)  # polling a remote process: nothing to await on
        raise TimeoutError(f"matcher holds {seen} of {expected} entries:\n{self.logs()}")

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time so far of each child, of this process and of the whole machine (all cores);
        the machine's rest is the broker and whatever else runs here."""
        tick = os.sysconf("SC_CLK_TCK")
        out: dict[str, float] = {}
        for name, child in self.children.items():
            if child.process is not None and child.process.poll() is None:
                out[name] = _process_cpu(child.process.pid, tick)
        if self.broker_pid is None:
            self.broker_pid = broker_pid(self.settings.kafka_bootstrap)
        if self.broker_pid is not None:
            out["broker"] = _process_cpu(self.broker_pid, tick)
        times = os.times()
        out["bench_driver"] = times.user + times.system
        busy = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in busy[:8])
        out["machine"] = (user + nice + system + irq + softirq + steal) / tick
        return out

    def check_alive(self) -> None:
        for name, child in self.children.items():
            if child.process is not None and child.process.poll() is not None:
                raise RuntimeError(f"{name} exited {child.process.returncode}:\n{child.log()}")

    def logs(self, lines: int = 40) -> str:
        return "\n".join(f"--- {n} ---\n{c.log(lines)}" for n, c in self.children.items())

    def stop(self) -> dict[str, int | None]:
        """Stop every child (SIGTERM, then SIGKILL); returns their exit codes."""
        return {name: child.stop(timeout_s=20) for name, child in reversed(self.children.items())}


def load_watchlist(workdir: Path, watchlist: Path, env: dict[str, str]) -> None:
    """``relay watchlist load`` of the demo watchlist, its output in the work dir's log."""
    log = workdir / "watchlist-load.log"
    with log.open("ab") as out:
        done = subprocess.run(
            [sys.executable, *RELAY_CLI, "watchlist", "load", str(watchlist), "--format", "jsonl"],
            env={**os.environ, **env}, cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
            timeout=READY_TIMEOUT_S, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"watchlist load failed:\n{log.read_text(errors='replace')}")


def service_environment(settings: CommonSettings, demo: DemoPaths) -> dict[str, str]:
    """What every bench's service processes share: the broker, the demo's files and keys."""
    return {
        **service_secrets(demo.root),
        "RELAY_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "RELAY_TOPIC_PREFIX": settings.topic_prefix,
        "RELAY_LOG_LEVEL": "warning",
        "RELAY_LOG_FORMAT": "json",
        "RELAY_INGEST_AGENCIES_FILE": str(demo.agencies),
        "RELAY_NOTIFIER_DIRECTORY_PATH": str(demo.contact_points),
        # committed often: the matcher's offsets measure what it screened, and a killed
        # matcher's successor screens little twice
        "RELAY_MATCHER_COMMIT_INTERVAL_S": "0.2",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
