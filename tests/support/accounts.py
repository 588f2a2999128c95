"""Console accounts for tests: one per contact point and role, with a known test password.

Hashed with cheap argon2 parameters (the hash carries them, so the notifier verifies with
the same): tests sign in often and the machine is shared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import yaml
from argon2 import PasswordHasher

from services.notifier.console.principal import Role

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def account_name(cp_id: str, role: Role = Role.DUTY_OFFICER) -> str:
    return f"{cp_id.lower()}.{role.value}"


def password_of(account: str) -> str:
    return f"test-password-{account}"


def accounts_for(directory: dict[str, Any], language: str = "en") -> dict[str, Any]:
    """Every contact point of the directory gets one account per role."""
    return {
        "accounts": [
            {
                "account": account_name(cp["id"], role),
                "name": f"{role.value.replace('_', ' ').title()} of {cp['id']}",
                "country": cp["country"],
                "role": role.value,
                "contact_point": cp["id"],
                "language": language,
                "password_hash": FAST.hash(password_of(account_name(cp["id"], role))),
            }
            for cp in directory["contact_points"]
            for role in Role
        ]
    }


def accounts_beside(directory_path: Path) -> Path:
    """The accounts file for a directory file: written beside it, for its contact points."""
    path = directory_path.with_name(f"{directory_path.stem}-accounts.yaml")
    directory = yaml.safe_load(directory_path.read_text("utf-8"))
    path.write_text(yaml.safe_dump(accounts_for(directory)), "utf-8")
    return path


async def sign_in(
    client: httpx.AsyncClient, cp_id: str, role: Role = Role.DUTY_OFFICER, **extra: Any
) -> httpx.Response:
    """POST the sign-in of that contact point's account in ``role``."""
    account = account_name(cp_id, role)
    body = {"account": account, "password": password_of(account)}
    return await client.post("/console/api/session", json=body, **extra)
