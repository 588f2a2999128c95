"""The gettext catalogues (locale/) are complete: every word the notifier, the console's page and
its JavaScript mark is translated in every language, nothing fuzzy or empty, placeholders and
codes kept, and the compiled .mo files say what the .po files say (``make locale``)."""

from __future__ import annotations

import io
import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from services.notifier.i18n import (
    LANGUAGES,
    LOCALE_DIR,
    _catalogue,
    _translator,
    catalogue,
    translator,
)
from services.tooling.catalogues import english, extract_html

ROOT = LOCALE_DIR.parent
PLACEHOLDER = re.compile(r"\{\w+\}")
# Codes and names that stay as written in every language: SLTD, MRZ, CSV, JSON...
CODE = re.compile(r"\b[A-Z]{2,4}\b")


@cache
def extracted() -> frozenset[str]:
    """What `make locale-update` extracts, read from the sources now."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    keywords = {**DEFAULT_KEYWORDS, "t": None}
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)
    return frozenset(m[2] if isinstance(m[2], str) else m[2][0] for m in found)


@cache
def po(lang: str) -> Catalog:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=lang)


def messages(lang: str) -> dict[str, str]:
    return {
        str(m.id): str(m.string)
        for m in po(lang)
        if m.id and isinstance(m.id, str) and isinstance(m.string, str)
    }


def test_exactly_one_catalogue_per_language_and_no_other() -> None:
    found = sorted(
        p.relative_to(ROOT).as_posix()
        for p in ROOT.rglob("*.po")
        if not {".venv", "build", "node_modules"} & set(p.relative_to(ROOT).parts)
    )
    assert found == sorted(f"locale/{lang}/LC_MESSAGES/messages.po" for lang in LANGUAGES)


def test_the_sources_mark_words_and_the_extraction_finds_all_three_kinds() -> None:
    words = extracted()
    assert "Why the system raised it" in words  # app.js t()
    assert "Skip to alerts" in words  # index.html data-t
    assert "Alert detail" in words  # index.html data-t-aria-label
    assert "identical on both sides" in words  # words.py N_()


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_marked_word_is_in_the_catalogue_and_nothing_stale(lang: str) -> None:
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in po(lang) if m.id}
    assert sorted(extracted() - ids) == [], "run `make locale-update` and translate"
    assert sorted(ids - extracted()) == [], "stale entries: run `make locale-update`"
    assert list(po(lang).obsolete) == []


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_nothing_untranslated_or_fuzzy(lang: str) -> None:
    untranslated = [m.id for m in po(lang) if m.id and not all(_strings(m.string))]
    fuzzy = [m.id for m in po(lang) if m.id and m.fuzzy]
    assert (untranslated, fuzzy) == ([], [])


def _strings(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return [""]
    return [value] if isinstance(value, str) else list(value)


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_placeholders_and_codes_are_kept_and_words_are_translated(lang: str) -> None:
    wrong = []
    for msgid, text in messages(lang).items():
        if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(text)):
            wrong.append(("placeholders", msgid, text))
        if not set(CODE.findall(msgid)) <= set(CODE.findall(text)):
            wrong.append(("codes", msgid, text))
    assert wrong == []
    # Not English copied across: most of the words differ from their msgids.
    same = [m for m, text in messages(lang).items() if m == text and PLACEHOLDER.sub("", m).strip()]
    assert len(same) <= 5, same


def test_english_is_its_own_msgids() -> None:
    assert all(msgid == text for msgid, text in messages("en").items())


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_the_compiled_catalogue_says_what_the_po_says(lang: str) -> None:
    """A stale or missing .mo (``make locale`` not run) fails here, not in front of an officer."""
    gettext = translator(lang).gettext
    stale = {m: t for m, t in messages(lang).items() if gettext(m) != t}
    assert stale == {}
    assert catalogue(lang)["messages"] == messages(lang)


def test_an_unknown_language_falls_back_to_english() -> None:
    assert translator("fr").gettext("Red Notice") == "Red Notice"
    assert catalogue("xx-YY")["lang"] == "en"
    assert catalogue("ru-RU")["lang"] == "ru"


def test_official_renderings_of_interpol_notice_names() -> None:
    assert translator("ru").gettext("Red Notice") == "Красное уведомление"
    assert translator("ru").gettext("Yellow Notice") == "Жёлтое уведомление"
    assert "SLTD" in translator("kk").gettext("Stolen and Lost Travel Documents (SLTD)")


def test_locale_dir_is_the_repositorys() -> None:
    assert Path(LOCALE_DIR) == ROOT / "locale"


def test_odd_language_tags_from_the_url_never_grow_the_caches() -> None:
    for n in range(200):
        assert catalogue(f"zz-{n}")["lang"] == "en"
        translator(f"zz{n}")
    assert _catalogue.cache_info().currsize <= len(LANGUAGES)
    assert _translator.cache_info().currsize <= len(LANGUAGES)


def test_the_page_extractor_reads_marked_text_and_attributes_only() -> None:
    page = (
        b"<p data-t>Skip  to\n alerts</p><p>not marked</p>"
        b'<nav aria-label="Alerts" data-t-aria-label="Alerts"></nav>'
    )
    found = list(extract_html(io.BytesIO(page), {}, (), {}))
    assert [(line, text) for line, _, text, _ in found] == [(1, "Skip to alerts"), (2, "Alerts")]
    with pytest.raises(ValueError, match="holds only text"):
        list(extract_html(io.BytesIO(b"<p data-t>a <b>b</b></p>"), {}, (), {}))


def test_the_english_catalogue_is_filled_with_its_msgids(tmp_path: Path) -> None:
    folder = tmp_path / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog = Catalog(locale="en")
    catalog.add("Red Notice")
    catalog.add("{n} leads", flags=("fuzzy",))
    with (folder / "messages.po").open("wb") as handle:
        write_po(handle, catalog)
    english(tmp_path)
    with (folder / "messages.po").open("rb") as handle:
        done = read_po(handle, locale="en")
    assert [(m.id, m.string, m.fuzzy) for m in done if m.id] == [
        ("Red Notice", "Red Notice", False),
        ("{n} leads", "{n} leads", False),
    ]
