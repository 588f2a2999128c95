"""A secured local broker (SASL_SSL + SCRAM-SHA-512 + ACLs) and the access policy it enforces.

Clients reach one SASL_SSL listener; the KRaft controller listener is SASL_PLAINTEXT with PLAIN
(SCRAM credentials live in the metadata log, which the controller must serve before it could
check them) and accepts only the broker's own ``admin`` principal. The authorizer denies
whatever ``deploy/acls.yaml`` does not grant; ``admin`` is the one super user. The admin's
SCRAM credential is written at format time (it must exist before anyone can log in); service
users and ACLs are then created through the Java Admin API (``KafkaAccess.java``), because
aiokafka 0.14 has neither CreateAcls nor AlterUserScramCredentials.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, SecretStr

from services.common.settings import REPO_ROOT, CommonSettings, SecurityProtocol
from services.tooling.kafka_local import (
    KAFKA_LOCAL_DIR,
    BrokerError,
    LocalBroker,
    LocalBrokerSettings,
)

ACCESS_POLICY_PATH = REPO_ROOT / "deploy" / "acls.yaml"
ACCESS_TOOL = KAFKA_LOCAL_DIR / "KafkaAccess.java"
MECHANISM = "SCRAM-SHA-512"
CLUSTER_RESOURCE = "kafka-cluster"

# Policy words -> Kafka operations. READ and WRITE imply DESCRIBE in Kafka's authorizer.
TOPIC_OPERATIONS: dict[str, tuple[str, ...]] = {
    "read": ("READ",),
    "write": ("WRITE",),
    "describe": ("DESCRIBE", "DESCRIBE_CONFIGS"),
    "create": ("CREATE",),
    "own": ("READ", "WRITE", "CREATE", "DESCRIBE", "DESCRIBE_CONFIGS"),
}
GROUP_OPERATIONS: dict[str, tuple[str, ...]] = {"read": ("READ",), "describe": ("DESCRIBE",)}
CLUSTER_OPERATIONS: dict[str, tuple[str, ...]] = {
    "describe": ("DESCRIBE",),
    "describe_configs": ("DESCRIBE_CONFIGS",),
}


# -- the policy ----------------------------------------------------------------------------
class Grants(BaseModel):
    """Names granted per policy word (see ``TOPIC_OPERATIONS`` / ``GROUP_OPERATIONS``)."""

    read: list[str] = Field(default_factory=list)
    write: list[str] = Field(default_factory=list)
    describe: list[str] = Field(default_factory=list)
    create: list[str] = Field(default_factory=list)
    own: list[str] = Field(default_factory=list)


class PrincipalGrants(BaseModel):
    topics: Grants = Field(default_factory=Grants)
    groups: Grants = Field(default_factory=Grants)
    cluster: list[str] = Field(default_factory=list)


class AccessPolicy(BaseModel):
    principals: dict[str, PrincipalGrants]


@dataclass(frozen=True)
class AclBinding:
    resource_type: str  # TOPIC, GROUP, CLUSTER
    pattern_type: str  # LITERAL or PREFIXED
    name: str
    principal: str
    operation: str

    def line(self) -> str:
        fields = ("acl", self.resource_type, self.pattern_type, self.name, self.principal)
        return "\t".join((*fields, self.operation))


def load_access_policy(path: Path = ACCESS_POLICY_PATH) -> AccessPolicy:
    return AccessPolicy.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def _pattern(name: str, prefix: str) -> tuple[str, str]:
    """A policy name -> (pattern type, physical name): ``*`` all, ``x*`` prefix, else exact."""
    if name == "*":
        return "LITERAL", "*"
    if name.endswith("*"):
        return "PREFIXED", prefix + name[:-1]
    return "LITERAL", prefix + name


def _bindings_for(
    resource_type: str, grants: Grants, operations: dict[str, tuple[str, ...]], principal: str
) -> list[tuple[str, str, str, str]]:
    found = []
    for word, kafka_operations in operations.items():
        for name in getattr(grants, word):
            for operation in kafka_operations:
                found.append((resource_type, name, principal, operation))
    unknown = {w for w in Grants.model_fields if getattr(grants, w) and w not in operations}
    if unknown:
        raise ValueError(f"{principal}: {sorted(unknown)} not allowed on {resource_type}")
    return found


def acl_bindings(policy: AccessPolicy, prefix: str = "") -> list[AclBinding]:
    """Every ALLOW binding the policy grants, with catalogue names made physical by ``prefix``."""
    bindings: list[AclBinding] = []
    for user, grants in policy.principals.items():
        principal = f"User:{user}"
        raw = _bindings_for("TOPIC", grants.topics, TOPIC_OPERATIONS, principal)
        raw += _bindings_for("GROUP", grants.groups, GROUP_OPERATIONS, principal)
        for resource_type, name, who, operation in raw:
            pattern_type, physical = _pattern(name, prefix)
            bindings.append(AclBinding(resource_type, pattern_type, physical, who, operation))
        for word in grants.cluster:
            for operation in CLUSTER_OPERATIONS[word]:
                bindings.append(
                    AclBinding("CLUSTER", "LITERAL", CLUSTER_RESOURCE, principal, operation)
                )
    return bindings


# -- TLS material --------------------------------------------------------------------------
class TlsMaterial(BaseModel):
    ca_file: Path  # PEM, for Python clients (RELAY_KAFKA_SSL_CAFILE)
    keystore: Path  # PKCS12: the broker's key and its chain
    truststore: Path  # PKCS12: the CA, for the broker's and Java clients' own connections
    password: SecretStr


def _run(command: list[str], stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    """Run a tool; secrets go in through stdin or the environment, never the command line."""
    environment = {**os.environ, **(env or {})}
    result = subprocess.run(
        command, input=stdin, env=environment, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BrokerError(f"{command[0]} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result.stdout


def generate_tls(directory: Path, days: int = 2) -> TlsMaterial:
    """A throw-away CA and a broker certificate for 127.0.0.1/localhost, signed by it."""
    directory.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(18)
    d = directory
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _run(["openssl", "req", "-x509", *ec, "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"),
          "-days", str(days), "-subj", "/CN=notice-relay local CA",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"])  # fmt: skip
    _run(["openssl", "req", *ec, "-keyout", str(d / "broker.key"), "-out", str(d / "broker.csr"),
          "-subj", "/CN=localhost"])  # fmt: skip
    (d / "broker.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n"
        "keyUsage=critical,digitalSignature,keyAgreement\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    _run(["openssl", "x509", "-req", "-in", str(d / "broker.csr"), "-CA", str(d / "ca.pem"),
          "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-days", str(days),
          "-extfile", str(d / "broker.ext"), "-out", str(d / "broker.pem")])  # fmt: skip
    _run(["openssl", "pkcs12", "-export", "-in", str(d / "broker.pem"),
          "-inkey", str(d / "broker.key"), "-certfile", str(d / "ca.pem"), "-name", "broker",
          "-out", str(d / "broker.p12"), "-passout", "stdin"], stdin=password + "\n")  # fmt: skip
    _run(["keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", str(d / "ca.pem"),
          "-keystore", str(d / "truststore.p12"), "-storetype", "PKCS12",
          "-storepass:env", "STOREPASS"], env={"STOREPASS": password})  # fmt: skip
    for private in ("ca.key", "broker.key"):
        (d / private).chmod(0o600)
    return TlsMaterial(
        ca_file=d / "ca.pem", keystore=d / "broker.p12", truststore=d / "truststore.p12",
        password=SecretStr(password),
    )  # fmt: skip


# -- the secured broker --------------------------------------------------------------------
class BrokerSecurity(BaseModel):
    """What a secured broker needs: TLS material and the super user's SCRAM password."""

    tls: TlsMaterial
    admin_user: str = "admin"
    admin_password: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(18)))


def _jaas(module: str, user: str, password: str, *extra: str) -> str:
    options = " ".join((f'username="{user}"', f'password="{password}"', *extra))
    return f"org.apache.kafka.common.security.{module} required {options};"


class SecureLocalBroker(LocalBroker):
    """``LocalBroker`` with one SASL_SSL (SCRAM-SHA-512) listener and ACLs enforced."""

    def __init__(self, settings: LocalBrokerSettings, security: BrokerSecurity) -> None:
        self.security = security
        # Readiness probes and status calls log in as the super user.
        admin = self._client_update(security.admin_user, security.admin_password)
        super().__init__(settings.model_copy(update=admin))

    def _client_update(self, user: str, password: SecretStr) -> dict[str, object]:
        return {
            "kafka_security_protocol": SecurityProtocol.SASL_SSL,
            "kafka_sasl_mechanism": MECHANISM,
            "kafka_sasl_username": user,
            "kafka_sasl_password": password,
            "kafka_ssl_cafile": self.security.tls.ca_file,
        }

    def client_settings(
        self, user: str, password: SecretStr, base: CommonSettings | None = None
    ) -> CommonSettings:
        """Client settings for ``user`` on this broker (``base`` keeps e.g. a topic prefix)."""
        update = {"kafka_bootstrap": self.bootstrap, **self._client_update(user, password)}
        return (base or CommonSettings()).model_copy(update=update)

    def client_environment(self, user: str, password: SecretStr) -> dict[str, str]:
        """The same as ``RELAY_*`` variables, for a service run as a process."""
        return {
            "RELAY_KAFKA_BOOTSTRAP": self.bootstrap,
            "RELAY_KAFKA_SECURITY_PROTOCOL": SecurityProtocol.SASL_SSL.value,
            "RELAY_KAFKA_SASL_MECHANISM": MECHANISM,
            "RELAY_KAFKA_SASL_USERNAME": user,
            "RELAY_KAFKA_SASL_PASSWORD": password.get_secret_value(),
            "RELAY_KAFKA_SSL_CAFILE": str(self.security.tls.ca_file),
        }

    def _properties(self) -> dict[str, str]:
        tls, admin = self.security.tls, self.security.admin_user
        password = self.security.admin_password.get_secret_value()
        # The controller's PLAIN secret is only ever used broker->controller in this process.
        controller_secret = secrets.token_urlsafe(18)
        store_password = tls.password.get_secret_value()
        secured = {
            "listeners": (
                f"SASL_SSL://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
            ),
            "advertised.listeners": f"SASL_SSL://127.0.0.1:{self.port}",
            "listener.security.protocol.map": "SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT",
            "inter.broker.listener.name": "SASL_SSL",
            "sasl.enabled.mechanisms": MECHANISM,
            "sasl.mechanism.inter.broker.protocol": MECHANISM,
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": _jaas(
                "scram.ScramLoginModule", admin, password
            ),
            "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
            "sasl.mechanism.controller.protocol": "PLAIN",
            "listener.name.controller.plain.sasl.jaas.config": _jaas(
                "plain.PlainLoginModule",
                admin,
                controller_secret,
                f'user_{admin}="{controller_secret}"',
            ),
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": str(tls.keystore),
            "ssl.keystore.password": store_password,
            "ssl.key.password": store_password,
            "ssl.truststore.type": "PKCS12",
            "ssl.truststore.location": str(tls.truststore),
            "ssl.truststore.password": store_password,
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users": f"User:{admin}",
            "allow.everyone.if.no.acl.found": "false",
        }
        return {**super()._properties(), **secured}

    def _write_properties(self) -> None:
        super()._write_properties()
        self.properties_file.chmod(0o600)  # it holds passwords

    def _format_options(self) -> list[str]:
        password = self.security.admin_password.get_secret_value()
        return ["--add-scram", f"{MECHANISM}=[name={self.security.admin_user},password={password}]"]

    # -- users and ACLs --------------------------------------------------------------------
    @property
    def access_tool_dir(self) -> Path:
        digest = hashlib.sha256(ACCESS_TOOL.read_bytes()).hexdigest()[:12]
        return self.cache_dir / f"access-{digest}"

    def _compile_access_tool(self) -> None:
        if (self.access_tool_dir / "KafkaAccess.class").exists():
            return
        self.access_tool_dir.mkdir(parents=True, exist_ok=True)
        _run(
            ["javac", "-cp", f"{self.lib_dir}/*", "-d", str(self.access_tool_dir), str(ACCESS_TOOL)]
        )

    def _admin_client_properties(self) -> Path:
        tls = self.security.tls
        lines = {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": MECHANISM,
            "sasl.jaas.config": _jaas(
                "scram.ScramLoginModule",
                self.security.admin_user,
                self.security.admin_password.get_secret_value(),
            ),
            "ssl.truststore.type": "PKCS12",
            "ssl.truststore.location": str(tls.truststore),
            "ssl.truststore.password": tls.password.get_secret_value(),
            "request.timeout.ms": "10000",
            "default.api.timeout.ms": "30000",
        }
        path = self.data_dir / "admin-client.properties"
        path.touch(mode=0o600)
        path.write_text("".join(f"{k}={v}\n" for k, v in lines.items()), encoding="utf-8")
        return path

    def apply_access(
        self, users: dict[str, SecretStr], policy: AccessPolicy | None = None, prefix: str = ""
    ) -> dict[str, int]:
        """Create (or update) SCRAM users and the policy's ACLs; returns what was sent."""
        self.fetch()
        self._compile_access_tool()
        bindings = acl_bindings(policy or load_access_policy(), prefix)
        commands = [f"user\t{name}\t{pw.get_secret_value()}" for name, pw in users.items()]
        commands += [binding.line() for binding in bindings]
        classpath = f"{self.lib_dir}/*:{self.access_tool_dir}"
        output = _run(
            self._java("KafkaAccess", str(self._admin_client_properties()), classpath=classpath),
            stdin="\n".join(commands) + "\n",
        )
        counts: dict[str, int] = json.loads(output.strip().splitlines()[-1])
        return counts
