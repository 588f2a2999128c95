"""Console accounts: the file's rules, argon2 passwords, what a session is bound to, and the
demo's accounts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.demo.accounts import PASSWORDS_FILE, build_accounts, sign_in_hint, write_accounts
from services.demo.directory import build_directory
from services.notifier.accounts_file import (
    Account,
    Accounts,
    AccountsFile,
    load_accounts,
    password_matches,
)
from services.notifier.console.principal import Role
from services.notifier.errors import AccountsError
from tests.support.accounts import FAST


def entry(**extra: Any) -> dict[str, Any]:
    return {
        "account": "kaz.duty1", "name": "Synth Officer", "country": "KAZ",
        "role": "duty_officer", "contact_point": "KAZ-NCB", "language": "ru",
        "password_hash": FAST.hash("correct horse"), **extra,
    }  # fmt: skip


def test_an_account_gives_its_principal_and_audit_name() -> None:
    who = Account.model_validate(entry()).principal()
    assert (who.role, who.country, who.language) == (Role.DUTY_OFFICER, "KAZ", "ru")
    assert who.actor == "KAZ-NCB/kaz.duty1"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"role": "admin"}, "role"),
        ({"account": "Kaz Duty|1"}, "account"),
        ({"country": "KZ"}, "country"),
        ({"password_hash": "plain-text"}, "password_hash"),
        ({"language": "english"}, "language"),
        ({"password_hash": None}, "oidc_subject"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_field(
    tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(yaml.safe_dump({"accounts": [entry(**change)]}), "utf-8")
    with pytest.raises(AccountsError) as raised:
        load_accounts(path)
    assert field in raised.value.reason
    assert "correct horse" not in raised.value.reason


def test_an_account_or_subject_may_appear_only_once() -> None:
    with pytest.raises(ValueError, match=r"kaz\.duty1"):
        Accounts.model_validate({"accounts": [entry(), entry()]})
    two = [entry(oidc_subject="s-1"), entry(account="kaz.duty2", oidc_subject="s-1")]
    with pytest.raises(ValueError, match="oidc_subject"):
        Accounts.model_validate({"accounts": two})


def test_passwords_are_checked_with_argon2() -> None:
    accounts = Accounts.model_validate(
        {"accounts": [entry(), entry(account="kaz.sso", password_hash=None, oidc_subject="s")]}
    )
    mine = accounts.get("kaz.duty1")
    assert mine is not None
    assert password_matches(mine, "correct horse")
    assert not password_matches(mine, "correct horse ")
    assert not password_matches(None, "correct horse")  # no such account
    assert not password_matches(accounts.get("kaz.sso"), "")  # an OIDC-only account
    assert accounts.by_subject("s") == accounts.get("kaz.sso")


def test_a_disabled_account_is_nobody() -> None:
    accounts = Accounts.model_validate({"accounts": [entry(disabled=True, oidc_subject="s")]})
    assert accounts.get("kaz.duty1") is None
    assert accounts.by_subject("s") is None


def test_the_stamp_changes_with_password_role_and_inbox() -> None:
    base = Account.model_validate(entry())
    same = Account.model_validate({**entry(), "password_hash": base.password_hash, "name": "X"})
    assert base.stamp() == same.stamp()  # a new display name keeps the session
    for change in ({"role": "supervisor"}, {"contact_point": "KAZ-BACKUP"},
                   {"password_hash": FAST.hash("x")}, {"disabled": True}):  # fmt: skip
        other = Account.model_validate({**entry(), "password_hash": base.password_hash, **change})
        assert other.stamp() != base.stamp(), change


def test_the_file_is_reread_and_a_bad_version_keeps_the_last_good_one(tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(yaml.safe_dump({"accounts": [entry()]}), "utf-8")
    watched = AccountsFile(path)
    assert watched().get("kaz.duty1") is not None
    path.write_text("accounts: [{account: 1}]\n", "utf-8")
    assert not watched.check()
    assert watched().get("kaz.duty1") is not None
    path.write_text(yaml.safe_dump({"accounts": [entry(account="kaz.duty2")]}), "utf-8")
    assert watched.check()
    assert watched().get("kaz.duty1") is None
    assert AccountsFile(None)().accounts == ()


def test_the_demo_has_every_role_for_every_contact_point(tmp_path: Path) -> None:
    directory = build_directory("http://127.0.0.1:1")
    raw, passwords = build_accounts(directory, FAST.hash)
    accounts = Accounts.model_validate(raw)
    countries = {p["country"] for p in directory["contact_points"]}
    assert {(a.country, a.role) for a in accounts.accounts} == {
        (c, r) for c in countries for r in Role
    }
    assert len(set(passwords.values())) == len(passwords)  # fresh, random, each its own
    write_accounts(tmp_path, directory, FAST.hash)
    assert (tmp_path / PASSWORDS_FILE).stat().st_mode & 0o077 == 0
    shown = "\n".join(sign_in_hint(tmp_path, "http://127.0.0.1:8081/console/"))
    kept = json.loads((tmp_path / PASSWORDS_FILE).read_text("utf-8"))
    assert "kaz.duty1" in shown
    assert kept["kaz.duty1"] in shown
    assert "password_hash" not in shown
