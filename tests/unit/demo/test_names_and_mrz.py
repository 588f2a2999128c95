"""Name writing per standard, and passports whose MRZ the project's own reader accepts."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from schemas.mrz import read_mrz
from services.demo.names import Standard, feminine, mrz_name, patronymic, write
from services.demo.traveller import (
    NATIONALITIES,
    holder_of,
    make_passport,
    make_person,
    passport_mrz,
)

TODAY = dt.date(2026, 6, 1)


@pytest.mark.parametrize(
    ("cyrillic", "standard", "expected"),
    [
        ("Холматов", Standard.ICAO, "KHOLMATOV"),
        ("Холматов", Standard.UZBEK_LATIN, "XOLMATOV"),
        ("Ёқубов", Standard.UZBEK_LATIN, "YOQUBOV"),
        ("Ёқубов", Standard.ICAO, "EKUBOV"),
        ("Ёқубов", Standard.MVD_782, "YOKUBOV"),
        ("Юлия", Standard.ICAO, "IULIIA"),
        ("Юлия", Standard.MVD_310, "YULIYA"),
        ("Семёнов", Standard.BGN_PCGN, "SEMËNOV"),
        ("Нұрсұлтан", Standard.KAZAKH_2021, "NŪRSŪLTAN"),
        ("Нұрсұлтан", Standard.ICAO, "NURSULTAN"),
        ("Огулджерен", Standard.TURKMEN_LATIN, "OGULDŽEREN"),
        ("Ҷалолов", Standard.UZBEK_LATIN, "JALOLOV"),
        ("Ҷалолов", Standard.CYRILLIC, "ҶАЛОЛОВ"),
    ],
)
def test_write_follows_the_standard(cyrillic: str, standard: Standard, expected: str) -> None:
    assert write(cyrillic, standard) == expected


def test_no_standard_leaves_cyrillic_in_a_latin_spelling() -> None:
    letters = "Әә Ғғ Ққ Ңң Өө Ұұ Үү Һһ Іі Ўў Ҳҳ Ҷҷ Ӣӣ Ӯӯ Җҗ Ёё Щщ"
    for standard in Standard:
        if standard is not Standard.CYRILLIC:
            assert not any("\u0400" <= c <= "\u04ff" for c in write(letters, standard)), standard


def test_mrz_name_is_a_to_z() -> None:
    assert mrz_name("ABDULLAEWIÇ") == "ABDULLAEWIC"
    assert mrz_name("GʻAYRAT") == "GAYRAT"
    assert mrz_name("ANNA-MARIA LUISE") == "ANNA<MARIA<LUISE"


def test_feminine_and_patronymic() -> None:
    assert feminine("Каримов") == "Каримова"
    assert feminine("Семёнов") == "Семёнова"
    assert patronymic("Сергей", "M") == "Сергеевич"
    assert patronymic("Алишер", "F") == "Алишеровна"
    assert patronymic("Абдулла", "M") is None


def test_passports_have_valid_td3_mrz_matching_the_data_page() -> None:
    rng = random.Random(5)
    for _ in range(500):
        person = make_person(rng, rng.choice(NATIONALITIES), TODAY)
        passport = make_passport(rng, person, TODAY)
        holder = holder_of(person, passport.standard)
        lines = passport_mrz(holder, passport.number, passport.issuing_state, passport.expiry)
        result = read_mrz(lines, today=TODAY)
        assert result.valid, (lines, result.errors)
        assert result.format == "TD3"
        assert result.document_number == passport.number
        assert result.nationality == person.nationality
        assert result.date_of_birth == person.date_of_birth.isoformat()
        assert result.expiry_date == passport.expiry.isoformat()
        assert result.sex == person.sex
        assert result.surname == mrz_name(holder.name.surname).replace("<", " ")
        assert passport.expiry > TODAY
