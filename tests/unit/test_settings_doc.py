"""The README's settings tables are the settings classes, not a copy that drifts."""

from __future__ import annotations

from services.common.settings import REPO_ROOT
from services.tooling.settings_doc import END, START, render


def test_readme_settings_tables_match_the_classes() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index(START) : readme.index(END) + len(END)]
    assert block == render(), "run: python -m services.tooling.settings_doc and paste into README"
