"""The import rules of CONTRIBUTING.md's Layout, read from the source with ``ast``.

Every import counts: at module level, inside functions and under ``TYPE_CHECKING``, because a
cycle or a forbidden dependency hidden in a function still ties the modules together.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "schemas")
# A service: a package under services/ that runs (``__main__``) or has domain code.
SERVICES = tuple(
    f"services.{folder.name}"
    for folder in sorted((ROOT / "services").iterdir())
    if (folder / "__main__.py").exists() or (folder / "domain").is_dir()
)
RUNTIME = "services.common"
# What runs beside the services, never inside them: broker, security and ops tooling, the
# command line, the demo, the watchlist loaders.
TOOLING = ("services.tooling", "services.cli", "services.demo", "services.watchlist")
# Pure code one service's domain may import from another's: the analysis resolves identities
# by the matcher's own name and date rules (issue 28), never by a copy of them.
SHARED_DOMAINS = {"services.analyst.domain": ("services.matcher.domain",)}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # what it names: a module, or a name inside one (``pkg.mod.Name``)
    line: int


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    # ``from . import x`` is relative to the package itself in an __init__, else to the parent
    drop = node.level - 1 if is_package else node.level
    anchor = module.split(".")[: len(module.split(".")) - drop]
    return ".".join([*anchor, node.module] if node.module else anchor)


def imports_of(path: Path, module: str) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):  # walk: imports in functions and TYPE_CHECKING blocks count
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, path.name == "__init__.py")
            for alias in node.names:
                yield Import(module, f"{base}.{alias.name}", node.lineno)


def source_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def project_imports() -> Iterator[tuple[Import, str]]:
    """Each import of a project module, with the module it resolves to."""
    modules = {module_name(path) for path in source_files()}
    for path in source_files():
        for imp in imports_of(path, module_name(path)):
            target = resolve(imp.target, modules)
            if target is not None and target != imp.source:
                yield imp, target


def resolve(target: str, modules: set[str]) -> str | None:
    """The project module an import names (``a.b.Name`` -> ``a.b``), None if outside."""
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target or None


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {module_name(path): set() for path in source_files()}
    for imp, target in project_imports():
        edges[imp.source].add(target)
    return edges


def strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative so that a long import chain cannot exhaust the stack."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges[root])))]
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    found.append(_pop_component(stack, node))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in stack:
                low[node] = min(low[node], index[child])
    return found


def _pop_component(stack: list[str], node: str) -> set[str]:
    component = set()
    while True:
        member = stack.pop()
        component.add(member)
        if member == node:
            return component


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _domain_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "services" and len(parts) > 2 and parts[2] == "domain":
        return ".".join(parts[:3])
    return None


def _service_of(module: str) -> str | None:
    return next((s for s in SERVICES if within(module, s)), None)


def _shared_domain(source: str, target: str) -> bool:
    allowed = SHARED_DOMAINS.get(_domain_of(source) or "", ())
    return any(within(target, domain) for domain in allowed)


def schemas_stand_alone(source: str, target: str) -> bool:
    return not (within(source, "schemas") and within(target, "services"))


def domain_is_pure(source: str, target: str) -> bool:
    domain = _domain_of(source)
    if domain is None or within(target, domain) or within(target, "schemas"):
        return True
    return _shared_domain(source, target)


def runtime_uses_no_tooling(source: str, target: str) -> bool:
    runtime = _service_of(source) is not None or within(source, RUNTIME)
    return not (runtime and any(within(target, tool) for tool in TOOLING))


def runtime_is_shared(source: str, target: str) -> bool:
    """``services.common`` is below every service: it imports none of them."""
    return not (within(source, RUNTIME) and _service_of(target) is not None)


def services_stand_apart(source: str, target: str) -> bool:
    """A service talks to another over Kafka only, never by import."""
    mine, theirs = _service_of(source), _service_of(target)
    return mine is None or theirs is None or mine == theirs or _shared_domain(source, target)


Rule = Callable[[str, str], bool]
RULES: list[Rule] = [
    schemas_stand_alone,
    domain_is_pure,
    runtime_uses_no_tooling,
    runtime_is_shared,
    services_stand_apart,
]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_every_import_keeps_the_rule(rule: Rule) -> None:
    broken = [
        f"{imp.source}:{imp.line} imports {target}"
        for imp, target in project_imports()
        if not rule(imp.source, target)
    ]
    assert broken == []


def test_there_is_no_import_cycle_in_services_or_schemas() -> None:
    cycles = [sorted(c) for c in strongly_connected(graph()) if len(c) > 1]
    assert cycles == []


@pytest.mark.parametrize(
    ("rule", "source", "target"),
    [
        (schemas_stand_alone, "schemas.alert", "services.common.settings"),
        (domain_is_pure, "services.notifier.domain.render", "services.notifier.store"),
        (domain_is_pure, "services.notifier.domain.render", "services.matcher.domain.names"),
        (domain_is_pure, "services.notifier.domain.render", "services.common.logging"),
        (runtime_uses_no_tooling, "services.common.kafka", "services.tooling.kafka_local"),
        (runtime_uses_no_tooling, "services.matcher.app", "services.tooling.ops.dlq"),
        (runtime_uses_no_tooling, "services.notifier.app", "services.demo.directory"),
        (runtime_is_shared, "services.common.fate", "services.notifier.metrics"),
        (services_stand_apart, "services.ingest.handlers", "services.matcher.domain"),
        (services_stand_apart, "services.analyst.app", "services.matcher.watchlist_state"),
    ],
)
def test_a_forbidden_import_breaks_its_rule(rule: Rule, source: str, target: str) -> None:
    assert not rule(source, target)


@pytest.mark.parametrize(
    ("rule", "source", "target"),
    [
        (domain_is_pure, "services.notifier.domain.render", "services.notifier.domain.words"),
        (domain_is_pure, "services.notifier.domain.render", "schemas.alert"),
        (domain_is_pure, "services.analyst.domain.identity", "services.matcher.domain.names"),
        (services_stand_apart, "services.analyst.domain.sighting", "services.matcher.domain.dates"),
        (runtime_uses_no_tooling, "services.cli.dlq_cmd", "services.tooling.ops.dlq"),
        (runtime_uses_no_tooling, "services.tooling.kafka_security", "services.common.kafka"),
        (services_stand_apart, "services.cli.screen_cmd", "services.matcher.domain"),
        (services_stand_apart, "services.notifier.app", "services.common.fate"),
    ],
)
def test_an_allowed_import_keeps_the_rules(rule: Rule, source: str, target: str) -> None:
    assert rule(source, target)


def test_the_cycle_finder_sees_a_cycle_through_three_modules() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert [c for c in strongly_connected(edges) if len(c) > 1] == [{"a", "b", "c"}]


def test_imports_in_functions_under_type_checking_and_relative_ones_count(
    tmp_path: Path,
) -> None:
    package = tmp_path / "services" / "notifier"
    package.mkdir(parents=True)
    source = package / "sample.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import services.common.kafka\n"
        "def later() -> None:\n    from services.common import fate\n"
        "from .domain import words\n",
        encoding="utf-8",
    )
    found = {imp.target for imp in imports_of(source, module_name(source, tmp_path))}
    assert {
        "services.common.kafka",
        "services.common.fate",
        "services.notifier.domain.words",
    } <= found
