"""A raw record's agency is whoever signed it (schemas.intake, services.ingest.domain.binding)."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from schemas.headers import H_AGENCY, H_SIGNATURE, H_SIGNATURE_TIMESTAMP
from schemas.intake import MAX_SIGNATURES, Refusal, signed_headers
from services.cli import ingest_cmd
from services.ingest.agencies_file import load_agencies
from services.ingest.domain.agencies import Agency, AgencyDirectory, hash_key
from services.ingest.domain.binding import RawClaim, Unbound, Window, bind
from services.ingest.errors import AgenciesFileError


def secret(seed: bytes, size: int = 24) -> str:
    return "whsec_" + base64.b64encode((seed * size)[:size]).decode()


KAZ, UZB, KAZ_NEXT = secret(b"k"), secret(b"u"), secret(b"n", 64)
NOW = 1_800_000_000
VALUE = orjson.dumps({"event_id": "e-1", "reported_by": "KAZ-BORDER"})
WINDOW = Window(tolerance_s=300, replay_s=7 * 86_400)


def agency(agency_id: str, country: str, *secrets: str) -> dict[str, Any]:
    return {"id": agency_id, "countries": [country], "key_sha256": [hash_key(agency_id)],
            "intake_secrets": list(secrets)}  # fmt: skip


DIRECTORY = AgencyDirectory.model_validate(
    {
        "agencies": [
            agency("KAZ-BORDER", "KAZ", KAZ, KAZ_NEXT),
            agency("UZB-BORDER", "UZB", UZB),
            agency("KGZ-POLICE", "KGZ"),
        ]
    }
)


def claim(headers: list[tuple[str, bytes]]) -> RawClaim:
    """A record with these headers, key EVT-1 and VALUE, written at NOW."""
    found = {k: v.decode() for k, v in headers}
    return RawClaim(
        agency=found.get(H_AGENCY), signature=found.get(H_SIGNATURE),
        timestamp=found.get(H_SIGNATURE_TIMESTAMP), key=b"EVT-1", value=VALUE,
        written_at_s=float(NOW),
    )  # fmt: skip


def signed(agency_id: str = "KAZ-BORDER", with_secret: str = KAZ, at: int = NOW) -> RawClaim:
    return claim(signed_headers(agency_id, with_secret, b"EVT-1", VALUE, at))


def refusal(result: Agency | Unbound) -> tuple[Refusal, str]:
    assert isinstance(result, Unbound), result
    return result.refusal, result.header


def test_the_wire_format_is_fixed() -> None:
    """A vector checked with openssl (the README's recipe): changing it breaks every producer."""
    key = "whsec_" + base64.b64encode(b"0123456789abcdef01234567").decode()
    headers = signed_headers("KAZ-BORDER", key, b"EVT-1", b'{"event_id":"e-1"}', NOW)
    assert dict(headers) == {
        H_AGENCY: b"KAZ-BORDER",
        H_SIGNATURE_TIMESTAMP: b"1800000000",
        H_SIGNATURE: b"v1,hukOVNK4iSXGsfc79RUEur8UZ8Xa6gNBi1WyjUbz3zM=",
    }


def test_a_record_signed_by_its_agency_is_bound_to_it() -> None:
    bound = bind(signed(), DIRECTORY, WINDOW)
    assert isinstance(bound, Agency)
    assert bound.id == "KAZ-BORDER"
    next_secret = bind(signed(with_secret=KAZ_NEXT), DIRECTORY, WINDOW)
    assert isinstance(next_secret, Agency)  # either listed secret: rotation without a gap


def test_a_record_that_claims_another_agency_is_refused() -> None:
    # UZB-BORDER signs with its own secret but names KAZ-BORDER (and the other way round)
    forged = replace(signed("UZB-BORDER", with_secret=UZB), agency="KAZ-BORDER")
    assert refusal(bind(forged, DIRECTORY, WINDOW)) == (Refusal.BAD_SIGNATURE, H_SIGNATURE)
    as_uzb = signed("UZB-BORDER", with_secret=KAZ)
    assert refusal(bind(as_uzb, DIRECTORY, WINDOW)) == (Refusal.BAD_SIGNATURE, H_SIGNATURE)


@pytest.mark.parametrize(
    "changes",
    [
        {"value": VALUE.replace(b"e-1", b"e-2")},
        {"key": b"EVT-2"},
        {"key": None},
        {"timestamp": str(NOW + 1)},
        {"signature": "v1,AAAA"},
        {"signature": "v2,abc"},
        {"signature": "v1,\u00e9\u00e9"},
    ],
)
def test_a_changed_or_forged_record_is_refused(changes: dict[str, Any]) -> None:
    changed = replace(signed(), **changes)
    assert refusal(bind(changed, DIRECTORY, WINDOW)) == (Refusal.BAD_SIGNATURE, H_SIGNATURE)


def test_several_signatures_one_good_is_enough_but_not_a_flood() -> None:
    good = signed()
    other = signed("KAZ-BORDER", with_secret=UZB)
    both = replace(good, signature=f"{other.signature} {good.signature}")
    assert isinstance(bind(both, DIRECTORY, WINDOW), Agency)
    flood = " ".join([str(other.signature)] * MAX_SIGNATURES + [str(good.signature)])
    flooded = replace(good, signature=flood)
    assert refusal(bind(flooded, DIRECTORY, WINDOW))[0] is Refusal.BAD_SIGNATURE


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"agency": None}, (Refusal.NO_AGENCY, H_AGENCY)),
        ({"agency": "TJK-BORDER"}, (Refusal.UNKNOWN_AGENCY, H_AGENCY)),
        ({"signature": None}, (Refusal.NO_SIGNATURE, H_SIGNATURE)),
        ({"timestamp": None}, (Refusal.NO_TIMESTAMP, H_SIGNATURE_TIMESTAMP)),
        ({"timestamp": "1800000000.5"}, (Refusal.BAD_TIMESTAMP, H_SIGNATURE_TIMESTAMP)),
        ({"timestamp": "-1800000000"}, (Refusal.BAD_TIMESTAMP, H_SIGNATURE_TIMESTAMP)),
        ({"timestamp": "01800000000"}, (Refusal.BAD_TIMESTAMP, H_SIGNATURE_TIMESTAMP)),
        ({"timestamp": "١٨٠٠٠٠٠٠٠٠"}, (Refusal.BAD_TIMESTAMP, H_SIGNATURE_TIMESTAMP)),
    ],
)
def test_missing_or_malformed_headers_name_the_header(
    changes: dict[str, Any], expected: tuple[Refusal, str]
) -> None:
    assert refusal(bind(replace(signed(), **changes), DIRECTORY, WINDOW)) == expected


def test_an_agency_without_intake_secrets_may_not_use_the_kafka_intake() -> None:
    unsigned = claim([(H_AGENCY, b"KGZ-POLICE")])
    assert refusal(bind(unsigned, DIRECTORY, WINDOW)) == (Refusal.NOT_ENROLLED, H_AGENCY)


@pytest.mark.parametrize(
    ("signed_at", "replayed", "ok"),
    [
        (NOW - 300, False, True),
        (NOW + 300, False, True),
        (NOW - 301, False, False),
        (NOW + 301, False, False),
        (NOW - 3600, True, True),
        (NOW - 7 * 86_400, True, True),
        (NOW - 7 * 86_400 - 1, True, False),
        (NOW + 301, True, False),
    ],
)
def test_the_signing_time_is_judged_against_the_time_the_record_was_written(
    signed_at: int, replayed: bool, ok: bool
) -> None:
    result = bind(replace(signed(at=signed_at), replayed=replayed), DIRECTORY, WINDOW)
    if ok:
        assert isinstance(result, Agency)
    else:
        assert refusal(result) == (Refusal.STALE, H_SIGNATURE_TIMESTAMP)
        assert isinstance(result, Unbound)
        assert result.reason.startswith(Refusal.STALE.value)
        assert " s " in result.reason  # how far off, so an operator can tell a clock from a copy


def test_a_backlog_read_late_is_not_stale() -> None:
    """The consumer's clock plays no part: written and signed a day ago is in time."""
    day_ago = NOW - 86_400
    late = replace(signed(at=day_ago), written_at_s=float(day_ago))
    assert isinstance(bind(late, DIRECTORY, WINDOW), Agency)


@pytest.mark.parametrize(
    "bad",
    [
        "whsec_" + "A" * 17,
        secret(b"x", 23),
        secret(b"x", 65),
        secret(b"x")[6:],
        "whsec_not base64!!!!!!!!!!!!!!!!!!!!!",
    ],
)
def test_unusable_intake_secrets_are_refused_when_the_file_is_read(bad: str) -> None:
    with pytest.raises(ValidationError):
        Agency.model_validate(agency("KAZ-BORDER", "KAZ", bad))


def test_one_secret_belongs_to_one_agency() -> None:
    with pytest.raises(ValueError, match="intake secret is listed for 'KAZ-BORDER' too"):
        AgencyDirectory.model_validate(
            {"agencies": [agency("KAZ-BORDER", "KAZ", KAZ), agency("UZB-BORDER", "UZB", KAZ)]}
        )


@pytest.mark.parametrize(
    "agencies",
    [
        [agency("KAZ-BORDER", "KAZ", KAZ, "whsec_" + "A" * 17)],
        [agency("KAZ-BORDER", "KAZ", KAZ), agency("UZB-BORDER", "UZB", KAZ)],
    ],
)
def test_a_broken_file_is_reported_without_its_secrets(
    tmp_path: Path, agencies: list[dict[str, Any]]
) -> None:
    path = tmp_path / "agencies.yaml"
    path.write_bytes(orjson.dumps({"agencies": agencies}))
    with pytest.raises(AgenciesFileError) as caught:
        load_agencies(path)
    assert "intake" in caught.value.reason
    assert KAZ.removeprefix("whsec_") not in caught.value.reason
    assert "AAAAAAAA" not in caught.value.reason


def test_a_yaml_error_does_not_quote_the_line(tmp_path: Path) -> None:
    path = tmp_path / "agencies.yaml"
    path.write_text(f"agencies:\n  - id: KAZ-BORDER\n    intake_secrets: [{KAZ}\n    x: [\n")
    with pytest.raises(AgenciesFileError) as caught:
        load_agencies(path)
    assert "line" in caught.value.reason
    assert KAZ.removeprefix("whsec_")[:8] not in caught.value.reason


def test_secrets_stay_out_of_reprs() -> None:
    kaz = DIRECTORY.by_id("KAZ-BORDER")
    assert kaz is not None
    assert KAZ not in repr(kaz)
    assert KAZ not in repr(DIRECTORY)


def test_relay_ingest_intake_secret_makes_a_secret_the_file_accepts() -> None:
    result = CliRunner().invoke(ingest_cmd.app, ["intake-secret"])
    assert result.exit_code == 0, result.output
    made = result.stdout.strip().removeprefix("- ")
    assert len(Agency.model_validate(agency("KAZ-BORDER", "KAZ", made)).intake_keys[0]) == 32
