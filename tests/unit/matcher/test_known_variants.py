"""Two real spellings of one name that no edit rule links (Magomed and Muhammad, Seon and
Seng) still alert, through the name groups packaged as data (``domain.variants``)."""

from __future__ import annotations

from services.matcher.domain import Screener, WatchlistIndex, entry_record
from services.matcher.domain.names import GIVEN, SURNAME, token_similarity, tokenise
from services.matcher.domain.variants import DATA, groups, read
from tests.unit.matcher.helpers import event, person_entry

BORN = "1984-06-21"


def _screener(*entries: dict[str, object]) -> Screener:
    index = WatchlistIndex()
    for entry in entries:
        index.upsert(entry_record(entry))
    return Screener(index)


def test_the_groups_are_read_from_the_packaged_data_file() -> None:
    table = read(DATA)
    assert len(table) > 100_000  # skeletons of Wikidata's name items, not a hand table
    assert len(groups()) == len(table)


def test_recorded_variants_compare_as_known_variants_and_others_do_not() -> None:
    for one, other in [("SEON", "SENG"), ("MAGOMED", "MUHAMMAD"), ("LAM", "LIM"), ("СЕОН", "SENG")]:
        a, b = tokenise(one, SURNAME)[0], tokenise(other, SURNAME)[0]
        assert token_similarity(a, b, surname=True) == (0.85, "known_variant"), (one, other)
    for one, other in [("KARIMOV", "NAZAROV"), ("GEORGIY", "YURIY")]:
        a, b = tokenise(one, SURNAME)[0], tokenise(other, GIVEN)[0]
        assert token_similarity(a, b, surname=True)[0] == 0, (one, other)


def test_an_entry_under_another_real_spelling_of_the_surname_alerts() -> None:
    entry = person_entry(
        "RED-SEON", [{"surname": "SEON", "given_names": "AMANGELDI"}], date_of_birth=BORN
    )
    screener = _screener(entry)
    [match] = screener.screen(event("SENG", "AMANGELDI", date_of_birth=BORN))
    assert match.entry_id == "RED-SEON"
    surname = next(item for item in match.evidence if item.field == SURNAME)
    assert surname.how == "known_variant"


def test_a_known_variant_alone_does_not_alert_without_the_rest_of_the_identity() -> None:
    entry = person_entry(
        "RED-SEON", [{"surname": "SEON", "given_names": "AMANGELDI"}], date_of_birth=BORN
    )
    screener = _screener(entry)
    assert screener.screen(event("SENG", "AMANGELDI", date_of_birth="1961-01-30")) == []
    assert screener.screen(event("SENG", "BAKHTIYOR", date_of_birth=BORN)) == []


def test_a_cancelled_entry_is_no_longer_reached_through_its_groups() -> None:
    index = WatchlistIndex()
    index.upsert(entry_record(person_entry(
        "RED-MAG", [{"surname": "MAGOMEDOV", "given_names": "MAGOMED"}], date_of_birth=BORN
    )))  # fmt: skip
    screener = Screener(index)
    assert [
        m.entry_id for m in screener.screen(event("MAGOMEDOV", "MUHAMMAD", date_of_birth=BORN))
    ] == ["RED-MAG"]
    index.remove("RED-MAG")
    assert screener.screen(event("MAGOMEDOV", "MUHAMMAD", date_of_birth=BORN)) == []
