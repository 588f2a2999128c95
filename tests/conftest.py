"""Test harness: markers by folder, the shared data folder, and the fixture modules.

Fixture modules live in ``tests/support`` and are registered here, the top-level conftest
(pytest accepts ``pytest_plugins`` nowhere else); fixtures that only integration tests use
(receivers, directories) are in ``tests/integration/conftest.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ("tests.support.broker",)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The folder decides the marker: tests/unit are unit, tests/integration integration."""
    for item in items:
        path = str(item.fspath)
        if f"{os.sep}unit{os.sep}" in path:
            item.add_marker(pytest.mark.unit)
        elif f"{os.sep}integration{os.sep}" in path:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return SHARED_DATA
