"""The notifier's languages: one gettext catalogue per language in ``locale/`` (Babel-managed).

Python code marks words with ``_()`` / ``ngettext`` (translated at once, with a translator of the
reader's language) or ``N_()`` (marked here, translated where it is shown). The console's
JavaScript has one ``t("English msgid", {vars})`` fed from the same catalogue, served as JSON
(``catalogue``). Msgids are English; placeholders are ``{name}``, filled after translating.
``make locale`` compiles the ``.po`` files to ``.mo`` (``make venv`` does it too); see
``locale/README.md`` for extracting and updating.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import read_mo

from services.common.settings import REPO_ROOT
from services.notifier.domain.words import LABELS, LANGUAGES, N_

__all__ = ["DEFAULT", "LANGUAGES", "LOCALE_DIR", "N_", "catalogue", "language", "translator"]

LOCALE_DIR = REPO_ROOT / "locale"
DOMAIN = "messages"
DEFAULT = "en"


def language(code: str | None) -> str:
    """A supported language for a tag such as ``ru``, ``ru-RU`` or ``uz_Latn``; else English."""
    if not code:
        return DEFAULT
    base = code.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT


def translator(lang: str | None) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang``; English (the msgids themselves) when it has none."""
    return _translator(language(lang))


@cache  # keyed by supported codes only: a caller's odd tags never grow it
def _translator(code: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, [code], fallback=True)


def mo_path(lang: str) -> Path:
    return LOCALE_DIR / language(lang) / "LC_MESSAGES" / f"{DOMAIN}.mo"


def catalogue(lang: str | None) -> dict[str, Any]:
    """The console's words in ``lang``: ``{lang, languages, labels, messages}``; ``labels`` are
    the English msgids of the wire's codes, ``messages`` maps msgid -> translation.

    Singular messages only: the console builds no plurals."""
    return _catalogue(language(lang))


@cache
def _catalogue(code: str) -> dict[str, Any]:
    messages: dict[str, str] = {}
    path = mo_path(code)
    if path.exists():
        with path.open("rb") as handle:
            for message in read_mo(handle):
                if message.id and isinstance(message.id, str) and isinstance(message.string, str):
                    messages[message.id] = message.string
    return {"lang": code, "languages": LANGUAGES, "labels": LABELS, "messages": messages}
