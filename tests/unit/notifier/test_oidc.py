"""OIDC sign-in without a provider: the flow's own cookie (bound to this notifier's key and
short-lived) and the ID token's checks. The whole flow runs against Keycloak in
tests/integration/test_console_oidc.py."""

from __future__ import annotations

import secrets
import time

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from services.notifier.console.oidc import FLOW_TTL_S, Flow, Oidc, OidcConfig, OidcError

CONFIG = OidcConfig("https://idp.example/realms/x", "console", None, "https://relay.example")
NOW = 1_800_000_000


def test_the_redirect_uri_is_the_notifiers_callback() -> None:
    assert CONFIG.redirect_uri == "https://relay.example/console/oidc/callback"


async def test_the_flow_cookie_opens_only_with_its_key_and_in_time() -> None:
    oidc = Oidc(CONFIG, secrets.token_bytes(32))
    other = Oidc(CONFIG, secrets.token_bytes(32))
    try:
        flow = oidc._open(oidc._seal(_flow(), NOW), NOW + 5)
        assert flow is not None
        assert flow.verifier.startswith("v")
        sealed = oidc._seal(_flow(), NOW)
        assert other._open(sealed, NOW) is None  # another key
        assert oidc._open(sealed, NOW + FLOW_TTL_S) is None  # too late
        body, mac = sealed.split(".")
        assert oidc._open(f"{body}x.{mac}", NOW) is None
        for odd in (None, "", "a.b.c", "é.x", "x" * 2000):
            assert oidc._open(odd, NOW) is None
    finally:
        await oidc.aclose()
        await other.aclose()


def _flow() -> Flow:
    return Flow("state-1", "nonce-1", "v" * 60)


ISSUER = CONFIG.issuer
SIGNER = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)


def _token(key: RSAKey = SIGNER, **claims: object) -> str:
    base = {"iss": ISSUER, "aud": "console", "sub": "officer-1", "nonce": "nonce-1",
            "exp": NOW + 300, "iat": NOW}  # fmt: skip
    return jwt.encode({"alg": "RS256", "kid": key.kid}, {**base, **claims}, key)


def _ready(oidc: Oidc) -> Oidc:
    """As if the provider's metadata and keys had just been read."""
    oidc._metadata = {"issuer": ISSUER}
    oidc._keys = KeySet.import_key_set(KeySet([SIGNER]).as_dict(private=False))
    oidc._read_at = time.monotonic()
    return oidc


async def test_the_id_token_must_be_signed_by_the_provider_and_for_this_flow() -> None:
    oidc = _ready(Oidc(CONFIG, secrets.token_bytes(32)))
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    try:
        assert await oidc._subject(_token(), "nonce-1", NOW) == "officer-1"
        for bad in (
            _token(stranger),  # another key under the same key id
            _token(nonce="nonce-2"),  # a token of another flow
            _token(aud="another-client"),
            _token(iss="https://evil.example/realms/x"),
            _token(exp=NOW - 120),  # expired (beyond the leeway)
        ):
            with pytest.raises(OidcError):
                await oidc._subject(bad, "nonce-1", NOW)
        unsigned = _token().rsplit(".", 1)[0] + "."
        with pytest.raises(OidcError):
            await oidc._subject(unsigned, "nonce-1", NOW)
    finally:
        await oidc.aclose()
