"""The per-event shortcuts give exactly what the general code gives (they exist for CPU only)."""

from __future__ import annotations

import random
import re
import unicodedata
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from schemas.codec import find_unknown_fields
from schemas.event import Event
from schemas.mrz import _check_digit_by_char as check_digit_by_definition
from schemas.mrz import check_digit
from services.ingest.domain.intake import _unknown_fields
from services.ingest.domain.keys import fold_name
from services.ingest.domain.mrz_check import _ICAO_LATIN, _strip_accents, mrz_forms
from services.ingest.metrics import EVENTS
from services.ingest.server import uvicorn_config
from services.ingest.settings import IngestSettings
from services.ingest.synthetic import make_event

MRZ_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"
ODD_CHARS = "az <é²٣\x00ÄЖ"  # lower case, space, accents, non-ASCII digits, other scripts


def outcome(function: Any, *args: Any) -> object:
    try:
        return function(*args)
    except ValueError as exc:  # should the definition ever fail, so must the shortcut
        return type(exc)


@given(st.text(alphabet=MRZ_CHARS + ODD_CHARS, max_size=90))
def test_check_digit_is_the_weighted_sum_of_the_definition(data: str) -> None:
    assert outcome(check_digit, data) == outcome(check_digit_by_definition, data)


@given(st.text(alphabet=MRZ_CHARS, max_size=90))
def test_check_digit_over_the_mrz_alphabet(data: str) -> None:
    assert check_digit(data) == check_digit_by_definition(data)


def mrz_forms_by_definition(name: str) -> set[str] | None:
    upper = name.upper()
    forms = set()
    for variant in (upper.translate(_ICAO_LATIN), upper):
        plain = _strip_accents(variant).replace("'", "")
        if any(c.isalpha() and not ("A" <= c <= "Z") for c in plain):
            return None
        forms.add(re.sub(r"[^A-Z]", "", plain))
    return forms


def fold_name_by_definition(text: str | None) -> str:
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalnum())


NAME_CHARS = st.sampled_from(list("abcXYZ '-.09\tßıſﬁÄöÜéЖ\u0301") + [chr(i) for i in range(128)])


@given(st.text(alphabet=NAME_CHARS, max_size=16))
def test_name_shortcuts_for_ascii_agree_with_the_unicode_path(name: str) -> None:
    assert mrz_forms(name) == mrz_forms_by_definition(name)
    assert fold_name(name) == fold_name_by_definition(name)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["code", "kind", "zz", "surname", "field"]), inner, max_size=3
        )
    ),
    max_leaves=12,
)


@st.composite
def sent_events(draw: st.DrawFn) -> dict[str, Any]:
    """Valid events with arbitrary values or extra keys put in at any depth."""
    event = make_event(random.Random(draw(st.integers(0, 10_000))))
    for _ in range(draw(st.integers(0, 3))):
        target = event
        for part in ("traveller", "document", "location"):
            if isinstance(event.get(part), dict) and draw(st.booleans()):
                target = event[part]
                break
        key = draw(st.sampled_from([*sorted(target), "extra", "flags", "mrz"]))
        target[key] = draw(JSON)
    return event


@given(sent_events())
def test_unknown_fields_shortcut_names_the_same_paths(raw: dict[str, Any]) -> None:
    assert _unknown_fields(raw) == find_unknown_fields(raw, Event)


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_cached_outcome_counters_feed_every_series() -> None:
    labels = {"intake": "http", "outcome": "forbidden"}
    standard = {"service": "ingest", "reason": "forbidden"}
    before = sample("relay_ingest_events_total", labels)
    before_standard = sample("relay_validation_failures_total", standard)
    EVENTS.labels("http", "forbidden").inc()
    EVENTS.labels("http", "forbidden").inc(2)
    assert sample("relay_ingest_events_total", labels) == before + 3
    assert sample("relay_validation_failures_total", standard) == before_standard + 3


def test_service_uses_the_compiled_http_parser_and_loop() -> None:
    config = uvicorn_config(IngestSettings(), 0)
    # The guarded protocol is uvicorn's httptools one with read deadlines (``http_guard``).
    assert isinstance(config.http, type)
    assert issubclass(config.http, HttpToolsProtocol)
    assert config.loop == "uvloop"
    config.load()  # both import: a missing one fails here, not at the first request
    assert config.get_loop_factory() is not None
