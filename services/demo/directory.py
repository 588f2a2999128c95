"""The demo run directory: contact points, agencies with their API keys and intake secrets
(which sign their records on ``ingest.raw``), and the watchlist.

The contact-point directory is the notifier's format (``services.notifier.domain.directory``)
and the agencies file is ingest's (``services.ingest.domain.agencies``); both are validated
with those services' own models before they are written, so a format change shows up here.
Every contact point's webhook goes to the demo receiver at ``/hooks/<COUNTRY>``.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml

from schemas.intake import new_secret as new_intake_secret
from services.demo.accounts import LANGUAGES, write_accounts
from services.demo.files import write_private
from services.demo.posts import COUNTRIES, Kind, Post
from services.demo.simulate import reporter
from services.demo.watchlist_gen import WatchlistSpec, generate
from services.ingest.domain.agencies import AgencyDirectory, hash_key, new_key
from services.notifier.channels import webhook
from services.notifier.channels.registry import SPECS
from services.notifier.domain.directory import Directory

DEFAULT_DIR = Path(".relay/demo")
WATCHLIST_FILE = "demo-watchlist.jsonl"
CONTACT_POINTS_FILE = "contact-points.yaml"
AGENCIES_FILE = "agencies.yaml"
API_KEYS_FILE = "api-keys.json"
INTAKE_SECRETS_FILE = "intake-secrets.json"
SECRETS_FILE = "service-secrets.json"
# The signing keys the services refuse to start without; generated, never built in.
SERVICE_SECRETS = (
    "RELAY_NOTIFIER_LINK_SECRET",
    "RELAY_NOTIFIER_SESSION_SECRET",
    "RELAY_ANALYST_PSEUDONYM_KEY",
)
COORDINATION = "CC"  # path segment of the coordination centre
DEMO_RATE_PER_S = 50_000.0  # the demo agencies are not what a benchmark should be limited by

# contact-point countries: the region, Russia, and the coordination centre (INTERPOL's code)
CONTACT_COUNTRIES = ("UZB", "KAZ", "KGZ", "TJK", "TKM", "RUS")
_NCB_CITIES = {
    "UZB": "Tashkent",
    "KAZ": "Astana",
    "KGZ": "Bishkek",
    "TJK": "Dushanbe",
    "TKM": "Ashgabat",
    "RUS": "Moscow",
}


@dataclass(frozen=True)
class DemoPaths:
    root: Path

    @property
    def watchlist(self) -> Path:
        return self.root / WATCHLIST_FILE

    @property
    def contact_points(self) -> Path:
        return self.root / CONTACT_POINTS_FILE

    @property
    def agencies(self) -> Path:
        return self.root / AGENCIES_FILE

    @property
    def service_secrets(self) -> Path:
        return self.root / SECRETS_FILE

    @property
    def api_keys(self) -> Path:
        return self.root / API_KEYS_FILE

    @property
    def intake_secrets(self) -> Path:
        return self.root / INTAKE_SECRETS_FILE


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _webhook(receiver_url: str, segment: str) -> dict[str, Any]:
    return {"url": f"{receiver_url.rstrip('/')}/hooks/{segment}", "secrets": [new_secret()]}


def build_directory(receiver_url: str) -> dict[str, Any]:
    """The notifier's contact-point directory for the demo, with fresh secrets."""
    points: list[dict[str, Any]] = [
        {
            "id": f"ncb-{c.lower()}",
            "country": c,
            "name": f"NCB {_NCB_CITIES[c]} (demo)",
            "language": LANGUAGES.get(c, "en"),  # its e-mail alerts' and console's
            "webhook": _webhook(receiver_url, c),
            "console": True,
        }
        for c in CONTACT_COUNTRIES
    ]
    points.append(
        {
            "id": "coordination-centre",
            "country": "XPO",
            "name": "Regional coordination centre (demo, 24/7)",
            "webhook": _webhook(receiver_url, COORDINATION),
            "console": True,
        }
    )
    raw = {
        "contact_points": points,
        "countries": {c: {"primary": f"ncb-{c.lower()}"} for c in CONTACT_COUNTRIES},
        "coordination_centre": "coordination-centre",
    }
    Directory.parse(raw, SPECS)
    return raw


def agency_ids() -> dict[str, str]:
    """Every demo agency id -> the country it reports for (border guard and police)."""
    ids: dict[str, str] = {}
    for country in COUNTRIES:
        for kind in (Kind.AIR, Kind.INLAND):
            ids[reporter(Post("", "", country, kind, 1, 0, ()))] = country
    return ids


def build_agencies(keys: dict[str, str], intake: dict[str, str]) -> dict[str, Any]:
    """Ingest's agencies file for the demo keys and intake secrets (agency id -> each)."""
    countries = agency_ids()
    raw = {
        "agencies": [
            {
                "id": agency,
                "countries": [countries[agency]],
                "key_sha256": [hash_key(key)],
                "intake_secrets": [intake[agency]] if agency in intake else [],
                "rate_per_s": DEMO_RATE_PER_S,
                "burst": DEMO_RATE_PER_S * 2,
            }
            for agency, key in sorted(keys.items())
        ]
    }
    AgencyDirectory.model_validate(raw)
    return raw


@dataclass(frozen=True)
class InitSummary:
    root: str
    watchlist_entries: int
    contact_points: int
    agencies: int
    api_keys_file: str


def init_demo(root: Path, receiver_url: str, spec: WatchlistSpec) -> InitSummary:
    """Write the whole demo directory; keys and secrets are new each time."""
    paths = DemoPaths(root)
    root.mkdir(parents=True, exist_ok=True)
    entries = generate(spec)
    with paths.watchlist.open("wb") as out:
        out.writelines(orjson.dumps(entry) + b"\n" for entry in entries)
    directory = build_directory(receiver_url)
    write_private(paths.contact_points, yaml.safe_dump(directory, sort_keys=False))
    write_accounts(root, directory)
    keys = {agency: new_key() for agency in agency_ids()}
    intake = {agency: new_intake_secret() for agency in keys}
    # The agencies file holds the intake secrets in clear (ingest must verify with them).
    write_private(paths.agencies, yaml.safe_dump(build_agencies(keys, intake), sort_keys=False))
    write_private(paths.api_keys, json.dumps(keys, indent=2) + "\n")
    write_private(paths.intake_secrets, json.dumps(intake, indent=2) + "\n")
    service_secrets(root)
    return InitSummary(
        str(root), len(entries), len(directory["contact_points"]), len(keys), str(paths.api_keys)
    )


def service_secrets(root: Path) -> dict[str, str]:
    """The services' own secrets (environment name -> value), made once and kept, mode 0600,
    beside the demo's other secrets: a restart keeps links and sessions valid."""
    path = DemoPaths(root).service_secrets
    found: dict[str, str] = {}
    if path.exists():
        raw = json.loads(path.read_text("utf-8"))
        found = {k: v for k, v in raw.items() if k in SERVICE_SECRETS and isinstance(v, str)}
    if set(found) != set(SERVICE_SECRETS):
        found = {name: found.get(name) or secrets.token_urlsafe(32) for name in SERVICE_SECRETS}
        root.mkdir(parents=True, exist_ok=True)
        write_private(path, json.dumps(found, indent=2) + "\n")
    return found


def load_api_keys(path: Path) -> dict[str, str]:
    """agency id -> plaintext key (or, from intake-secrets.json, intake secret), as
    ``init_demo`` wrote them."""
    raw = json.loads(path.read_text("utf-8"))
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ValueError(f"{path}: expected a JSON object of agency id -> key")
    return {str(k): v for k, v in raw.items()}


def receiver_secrets(path: Path) -> dict[str, tuple[str, ...]]:
    """Path segment after /hooks/ -> the secrets its contact point signs with."""
    directory = Directory.parse(yaml.safe_load(path.read_text("utf-8")), SPECS)
    out: dict[str, tuple[str, ...]] = {}
    for point in directory.contact_points:
        hook = webhook.SPEC.value_of(point)
        if hook is not None and "/hooks/" in hook.url:
            segment = hook.url.rsplit("/hooks/", 1)[1].strip("/")
            out[segment] = out.get(segment, ()) + hook.secrets
    return out
