"""A real single-node Apache Kafka 4.x broker (KRaft, combined broker+controller) on 127.0.0.1.

The broker's class path comes from Maven Central (``deploy/kafka-local/pom.xml``) into a
git-ignored cache; a second start finds the cache and needs no network. The broker runs
detached with a pid file in its data directory, so ``relay kafka down`` can stop it later.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from pydantic import BaseModel, Field

from services.common.kafka import make_admin
from services.common.settings import REPO_ROOT, CommonSettings

KAFKA_LOCAL_DIR = REPO_ROOT / "deploy" / "kafka-local"
POM = KAFKA_LOCAL_DIR / "pom.xml"
QUORUM_TOOL = KAFKA_LOCAL_DIR / "QuorumStatus.java"
LOG4J_CONFIG = KAFKA_LOCAL_DIR / "log4j2.properties"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies"


class BrokerError(RuntimeError):
    """The local broker could not be fetched, started, reached or stopped."""


class LocalBrokerSettings(CommonSettings):
    """Where and how the local development broker runs (``RELAY_KAFKA_LOCAL_*``)."""

    kafka_local_port: int = Field(9092, description="PLAINTEXT listener port of the local broker")
    kafka_local_controller_port: int | None = Field(
        None, description="KRaft controller port (default: broker port + 1)"
    )
    kafka_local_data_dir: Path = Field(
        REPO_ROOT / ".relay" / "kafka", description="Local broker data directory"
    )
    kafka_local_cache_dir: Path = Field(
        KAFKA_LOCAL_DIR / "cache", description="Where the broker's jars are cached"
    )
    kafka_local_heap_mb: int = Field(512, ge=128, le=768, description="Broker heap (MB)")
    kafka_local_start_timeout_s: float = Field(90.0, description="Seconds to wait for readiness")


class BrokerStatus(BaseModel):
    running: bool
    pid: int | None = None
    bootstrap: str
    data_dir: str
    version: str | None = None
    cluster_id: str | None = None
    controller_leader_id: int | None = None
    quorum_voters: list[int] = Field(default_factory=list)
    quorum_high_watermark: int | None = None
    metadata_version_level: int | None = None
    brokers: list[str] = Field(default_factory=list)
    error: str | None = None


class LocalBroker:
    def __init__(self, settings: LocalBrokerSettings) -> None:
        self.settings = settings
        self.port = settings.kafka_local_port
        self.controller_port = settings.kafka_local_controller_port or self.port + 1
        self.data_dir = settings.kafka_local_data_dir.resolve()
        self.cache_dir = settings.kafka_local_cache_dir.resolve()
        self.bootstrap = f"127.0.0.1:{self.port}"
        # The broker outlives start(); its Popen is kept so that it is not collected while the
        # broker runs (Python warns "subprocess is still running"). stop and kill reap it by pid.
        self._process: subprocess.Popen[bytes] | None = None

    # -- files -----------------------------------------------------------------------------
    @property
    def lib_dir(self) -> Path:
        digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:12]
        return self.cache_dir / f"lib-{digest}"

    @property
    def tool_dir(self) -> Path:
        digest = hashlib.sha256(QUORUM_TOOL.read_bytes()).hexdigest()[:12]
        return self.cache_dir / f"tools-{digest}"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "broker.log"

    @property
    def properties_file(self) -> Path:
        return self.data_dir / "server.properties"

    # -- fetch -----------------------------------------------------------------------------
    def fetch(self) -> Path:
        """Resolve the broker's jars once; later calls use the cache and no network."""
        marker = self.lib_dir / ".complete"
        if not marker.exists():
            staging = self.lib_dir.with_suffix(".partial")
            shutil.rmtree(staging, ignore_errors=True)
            command = [
                "mvn", "-q", "-B", "-f", str(POM), DEPENDENCY_PLUGIN,
                "-DincludeScope=runtime", f"-DoutputDirectory={staging}",
            ]  # fmt: skip
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise BrokerError(f"maven could not fetch the broker:\n{result.stdout[-4000:]}")
            shutil.rmtree(self.lib_dir, ignore_errors=True)
            staging.rename(self.lib_dir)
            marker.touch()
        self._compile_quorum_tool()
        return self.lib_dir

    def _compile_quorum_tool(self) -> None:
        if (self.tool_dir / "QuorumStatus.class").exists():
            return
        self.tool_dir.mkdir(parents=True, exist_ok=True)
        command = ["javac", "-cp", f"{self.lib_dir}/*", "-d", str(self.tool_dir), str(QUORUM_TOOL)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BrokerError(f"javac failed on the quorum tool:\n{result.stderr[-2000:]}")

    def version(self) -> str | None:
        for jar in self.lib_dir.glob("kafka_2.13-*.jar"):
            return jar.name.removeprefix("kafka_2.13-").removesuffix(".jar")
        return None

    # -- lifecycle ---------------------------------------------------------------------------
    def running_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        cmdline = Path(f"/proc/{pid}/cmdline")
        if cmdline.exists() and b"kafka.Kafka" not in cmdline.read_bytes():
            return None  # the pid was reused by something else
        return pid

    def _write_properties(self) -> None:
        text = "".join(f"{key}={value}\n" for key, value in self._properties().items())
        self.properties_file.write_text(text, encoding="utf-8")

    def _properties(self) -> dict[str, str]:
        """The broker's configuration; a secured broker (``kafka_security``) extends it."""
        logs = self.data_dir / "logs"
        return {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(logs),
            "num.partitions": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # A fresh consumer group starts at once: tests and restarts wait for nothing.
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            "log.retention.check.interval.ms": "60000",
        }

    def _java(self, *args: str, classpath: str | None = None) -> list[str]:
        return ["java", "-cp", classpath or f"{self.lib_dir}/*", *args]

    def _format_storage(self) -> None:
        if (self.data_dir / "logs" / "meta.properties").exists():
            return
        cluster_id = subprocess.run(
            self._java("kafka.tools.StorageTool", "random-uuid"),
            capture_output=True, text=True, check=True,
        ).stdout.strip().splitlines()[-1]  # fmt: skip
        result = subprocess.run(
            self._java(
                "kafka.tools.StorageTool", "format", "-t", cluster_id,
                "-c", str(self.properties_file), *self._format_options(),
            ),
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise BrokerError(f"formatting KRaft storage failed:\n{result.stdout}{result.stderr}")

    def _format_options(self) -> list[str]:
        """Extra ``StorageTool format`` options (a secured broker adds its SCRAM admin)."""
        return []

    def start(self) -> int:
        """Start the broker (fetching it if needed) and wait until it serves groups."""
        pid = self.running_pid()
        if pid is not None:
            asyncio.run(self.wait_ready(self.settings.kafka_local_start_timeout_s))
            return pid
        self.fetch()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._write_properties()
        self._format_storage()
        heap = f"-Xmx{self.settings.kafka_local_heap_mb}m"
        # -Xms = -Xmx, as Kafka's own start script: grown from 256 MB, G1 ran concurrent marking
        # cycles under load (1.4 of the broker's 3.5 CPU s over 40,000 events, measured).
        command = [
            "java", heap, heap.replace("-Xmx", "-Xms"),
            "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            "-cp", f"{self.lib_dir}/*", "kafka.Kafka", str(self.properties_file),
        ]  # fmt: skip
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        self._process = process
        self.pid_file.write_text(str(process.pid))
        try:
            asyncio.run(self.wait_ready(self.settings.kafka_local_start_timeout_s, process))
        except BrokerError:
            self.stop()
            raise
        return process.pid

    async def wait_ready(
        self, timeout_s: float, process: subprocess.Popen[bytes] | None = None
    ) -> None:
        """Ready = metadata served and a group coordinator found (``__consumer_offsets`` up)."""
        deadline = time.monotonic() + timeout_s
        settings = self.settings.model_copy(update={"kafka_bootstrap": self.bootstrap})
        last_error = "no answer"
        # Connection refusals are expected while the JVM starts; keep them out of the log.
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise BrokerError(f"broker exited with {process.returncode}:\n{self.log_tail()}")
            admin = make_admin(settings, request_timeout_ms=3000)
            try:
                await admin.start()
                await admin.describe_cluster()
                await admin.find_coordinator("relay-readiness-probe")
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
                last_error = repr(exc)
            else:
                return
            finally:
                await admin.close()
            await asyncio.sleep(0.5)
        raise BrokerError(
            f"broker not ready after {timeout_s:.0f}s ({last_error}):\n{self.log_tail()}"
        )

    def stop(self, timeout_s: float = 30.0) -> bool:
        """Stop cleanly (SIGTERM, controlled shutdown); SIGKILL only if it hangs."""
        pid = self.running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        if not _wait_for_exit(pid, timeout_s):
            os.kill(pid, signal.SIGKILL)
            _wait_for_exit(pid, 10)
        self.pid_file.unlink(missing_ok=True)
        self._forget_process()
        return True

    def kill(self) -> None:
        """SIGKILL, as a crash would (for tests of durability)."""
        pid = self.running_pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            _wait_for_exit(pid, 10)
            self._forget_process()

    def _forget_process(self) -> None:
        """Tell the Popen its process is gone: reaped by pid, it would still think it runs."""
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=1)
            self._process = None

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    # -- status ----------------------------------------------------------------------------
    def status(self) -> BrokerStatus:
        pid = self.running_pid()
        status = BrokerStatus(
            running=pid is not None, pid=pid, bootstrap=self.bootstrap, data_dir=str(self.data_dir)
        )
        if pid is None or not (self.lib_dir / ".complete").exists():
            return status
        self._compile_quorum_tool()
        classpath = f"{self.lib_dir}/*:{self.tool_dir}"
        result = subprocess.run(
            self._java("QuorumStatus", self.bootstrap, classpath=classpath),
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
        if result.returncode != 0 or not lines:
            status.error = (result.stderr or result.stdout)[-1000:]
            return status
        quorum = json.loads(lines[-1])
        status.version = quorum["version"]
        status.cluster_id = quorum["cluster_id"]
        status.controller_leader_id = quorum["leader_id"]
        status.quorum_voters = [voter["id"] for voter in quorum["voters"]]
        status.quorum_high_watermark = quorum["high_watermark"]
        status.metadata_version_level = quorum["finalized_features"].get("metadata.version")
        status.brokers = asyncio.run(self._brokers())
        return status

    async def _brokers(self) -> list[str]:
        settings = self.settings.model_copy(update={"kafka_bootstrap": self.bootstrap})
        admin = make_admin(settings)
        try:
            await admin.start()
            cluster = await admin.describe_cluster()
        finally:
            await admin.close()
        return [f"{b['node_id']}@{b['host']}:{b['port']}" for b in cluster["brokers"]]


def _wait_for_exit(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
            if finished == pid:
                return True
        except ChildProcessError:
            pass  # not our child: poll with signal 0 instead
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False
