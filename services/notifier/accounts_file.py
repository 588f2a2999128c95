"""Console accounts: named officers with a country, a role and a language, read from a YAML
file the notifier re-reads when it changes (see deploy/notifier/console-accounts.example.yaml).

An account signs in with a password, stored only as an argon2id hash, or through the bureau's
OpenID Connect provider (``oidc_subject``: the provider's ``sub`` for that officer); either
way the role, country and inbox come from this file, never from the provider.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Annotated, Self

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictStr,
    ValidationError,
    model_validator,
)

from schemas.common import CountryCode
from services.notifier.console.principal import Principal, Role
from services.notifier.errors import AccountsError
from services.notifier.watched_file import WatchedFile

# Lower case, no "|" or spaces: account names go into session cookies and audit actors.
AccountName = Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
Language = Annotated[StrictStr, Field(pattern=r"^[a-z]{2,3}$")]


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    account: AccountName
    name: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    country: CountryCode
    role: Role
    contact_point: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    language: Language = "en"
    password_hash: Annotated[StrictStr, Field(pattern=r"^\$argon2id?\$")] | None = None
    oidc_subject: Annotated[StrictStr, Field(min_length=1, max_length=255)] | None = None
    disabled: bool = False

    @model_validator(mode="after")
    def _can_sign_in(self) -> Self:
        if self.password_hash is None and self.oidc_subject is None:
            raise ValueError(f"{self.account}: needs password_hash or oidc_subject")
        return self

    def principal(self) -> Principal:
        return Principal(
            account=self.account, display_name=self.name, country=self.country, role=self.role,
            contact_point=self.contact_point, language=self.language,
        )  # fmt: skip

    def stamp(self) -> str:
        """Changes whenever the credentials or the rights change: it is bound into each
        session, so a new password, a new role or a disabled account ends its sessions."""
        parts = (self.password_hash, self.oidc_subject, self.role, self.country,
                 self.contact_point, str(self.disabled))  # fmt: skip
        return hashlib.sha256("|".join(p or "-" for p in parts).encode()).hexdigest()


class Accounts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    accounts: tuple[Account, ...] = ()
    _by_name: dict[str, Account] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object, /) -> None:
        self._by_name = {a.account: a for a in self.accounts}

    @model_validator(mode="after")
    def _unique(self) -> Self:
        for what, values in (
            ("account", [a.account for a in self.accounts]),
            ("oidc_subject", [a.oidc_subject for a in self.accounts if a.oidc_subject]),
        ):
            twice = sorted({v for v in values if values.count(v) > 1})
            if twice:
                raise ValueError(f"{what} appears more than once: {', '.join(twice)}")
        return self

    def get(self, account: str) -> Account | None:
        """The account if it exists and is not disabled."""
        found = self._by_name.get(account)
        return found if found is not None and not found.disabled else None

    def by_subject(self, subject: str) -> Account | None:
        for found in self.accounts:
            if found.oidc_subject == subject and not found.disabled:
                return found
        return None


@cache
def hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's (RFC 9106) parameters


def hash_password(password: str) -> str:
    return hasher().hash(password)


@cache
def _decoy() -> str:
    return hash_password("no such account")


def password_matches(account: Account | None, password: str) -> bool:
    """CPU-bound (tens of ms): call it in a thread. An unknown account or one without a
    password costs the same time, so timing does not tell which accounts exist."""
    stored = account.password_hash if account is not None else None
    try:
        ok = hasher().verify(stored or _decoy(), password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and stored is not None


def load_accounts(path: Path) -> Accounts:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Accounts.model_validate(raw or {})
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        # The validation message names the field, never the value: no hash reaches a log.
        raise AccountsError(f"console accounts {path}: {_fields(exc)}") from exc


def _fields(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return type(exc).__name__


class AccountsFile(WatchedFile[Accounts]):
    def __init__(self, path: Path | None) -> None:
        # Without a file nobody can sign in to the console (the API keys still work).
        load = load_accounts if path is not None else _no_accounts
        super().__init__(path or Path("/nonexistent"), load, "accounts")


def _no_accounts(_path: Path) -> Accounts:
    return Accounts()
