"""Kafka header names have one home: ``schemas/headers.py``. No other module spells one."""

from __future__ import annotations

import ast
from pathlib import Path

from schemas import headers

ROOT = Path(__file__).resolve().parents[3]
NAMES = {value for key, value in vars(headers).items() if key.startswith("H_")}


def test_every_header_name_is_a_relay_name_and_unique() -> None:
    constants = [value for key, value in vars(headers).items() if key.startswith("H_")]
    assert all(name.startswith("relay-") for name in constants)
    assert len(constants) == len(set(constants))


def test_no_module_but_schemas_headers_spells_a_header_name() -> None:
    spelt = []
    for path in sorted([*ROOT.glob("services/**/*.py"), *ROOT.glob("schemas/**/*.py")]):
        if path == ROOT / "schemas" / "headers.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in NAMES
            ):
                spelt.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value}")
    assert spelt == []
