"""The demo's console accounts: for every contact point of the demo directory, one officer in
each role, with a fresh random password.

``console-accounts.yaml`` is what the notifier reads (argon2id hashes only); the passwords
go to ``console-passwords.json`` (mode 0600) for the operator, and ``sign_in_hint`` is what
``relay run`` prints.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from services.demo.files import write_private
from services.notifier.accounts_file import Accounts, hash_password
from services.notifier.console.principal import Role

ACCOUNTS_FILE = "console-accounts.yaml"
PASSWORDS_FILE = "console-passwords.json"
# The account name's part after the country: "kaz.duty1".
SHORT = {
    Role.DUTY_OFFICER: "duty1",
    Role.SUPERVISOR: "supervisor",
    Role.ANALYST: "analyst",
    Role.AUDITOR: "auditor",
}
# The language each demo bureau's console opens in (the officer can switch).
LANGUAGES = {"UZB": "uz", "KAZ": "kk", "KGZ": "ky", "TJK": "tg", "TKM": "tk", "RUS": "ru"}
DEMO_OFFICER = ("KAZ", Role.DUTY_OFFICER)  # the one ``relay run`` names


def account_name(country: str, role: Role) -> str:
    return f"{country.lower()}.{SHORT[role]}"


def build_accounts(
    directory: dict[str, Any], hasher: Callable[[str], str] = hash_password
) -> tuple[dict[str, Any], dict[str, str]]:
    """(the accounts file, account -> password) for the demo directory's contact points."""
    rows: list[dict[str, Any]] = []
    passwords: dict[str, str] = {}
    for point in directory["contact_points"]:
        country = point["country"]
        for role in Role:
            name = account_name(country, role)
            passwords[name] = secrets.token_urlsafe(12)
            rows.append({
                "account": name,
                "name": f"{role.value.replace('_', ' ').title()} {country} (demo)",
                "country": country,
                "role": role.value,
                "contact_point": point["id"],
                "language": LANGUAGES.get(country, "en"),
                "password_hash": hasher(passwords[name]),
            })  # fmt: skip
    raw = {"accounts": rows}
    Accounts.model_validate(raw)  # the notifier's own model: a format change shows up here
    return raw, passwords


def write_accounts(
    root: Path, directory: dict[str, Any], hasher: Callable[[str], str] = hash_password
) -> None:
    raw, passwords = build_accounts(directory, hasher)
    write_private(root / ACCOUNTS_FILE, yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    write_private(root / PASSWORDS_FILE, json.dumps(passwords, indent=2) + "\n")


def ensure_accounts(root: Path, directory_file: Path) -> Path:
    """The demo's accounts file, written once (a demo directory from before accounts had
    none); its path is ``RELAY_NOTIFIER_ACCOUNTS_PATH``."""
    path = root / ACCOUNTS_FILE
    if not path.exists() or not (root / PASSWORDS_FILE).exists():
        write_accounts(root, yaml.safe_load(directory_file.read_text("utf-8")))
    return path


def sign_in_hint(root: Path, console_url: str) -> list[str]:
    """How to sign in to the demo console: the KAZ duty officer's account and password."""
    passwords = json.loads((root / PASSWORDS_FILE).read_text("utf-8"))
    country, role = DEMO_OFFICER
    name = account_name(country, role)
    others = ", ".join(account_name(country, r) for r in Role if r is not role)
    countries = sorted({a.split(".", 1)[0] for a in passwords} - {country.lower()})
    return [  # short lines: a terminal of 80 columns shows each on one
        f"console sign-in         {console_url}",
        f"  account               {name}   (duty officer, {country})",
        f"  password              {passwords[name]}",
        f"  other roles           {others}",
        f"  other countries       the same for {' '.join(countries)}",
        f"  every password        {root / PASSWORDS_FILE}",
    ]
