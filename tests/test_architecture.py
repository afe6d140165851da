"""The architecture as a test: imports point one way, packages hold families, modules stay small.

Every import counts — at module level, inside functions, and under `TYPE_CHECKING` — because a
type-only import back up is still a circle a reader has to untangle. The layers, top first (a
module may import from its own layer and the ones below; docs/design.md draws the same map):
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "pygestor"

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "interfaces",
        (
            "pygestor",
            "pygestor.__main__",
            "pygestor.cli",
            "pygestor.docs",
            "pygestor.testing",
            "pygestor.ui",
        ),
    ),
    ("facade", ("pygestor.catalog",)),
    (
        "operations",
        (
            "pygestor.fetch",
            "pygestor.fetch_ranges",
            "pygestor.read",
            "pygestor.maintain",
            "pygestor.scaffold",
        ),
    ),
    ("index", ("pygestor.index",)),
    ("sources", ("pygestor.sources", "pygestor.resolve")),
    ("storage", ("pygestor.storage", "pygestor.settings")),
    ("manifest", ("pygestor.manifest",)),
    ("base", ("pygestor.errors", "pygestor._version")),
]
#: operations are independent of each other: each is read and tested alone
SIBLINGS = ("pygestor.fetch", "pygestor.read", "pygestor.maintain", "pygestor.scaffold")
#: package __init__ files that may do more than hold a docstring (each stays lazy)
LAZY_INITS = {
    "pygestor",
    "pygestor.cli",
    "pygestor.sources",
    "pygestor.testing",
    "pygestor.testing.hub",
}
MAX_LINES = 800


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every pygestor module `name` imports, anywhere in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            # `from . import x` names a submodule when one exists, else an attribute of `stem`
            targets = [
                f"{stem}.{a.name}" if f"{stem}.{a.name}" in MODULES else stem for a in node.names
            ]
        else:
            continue
        for target in targets:
            if target == "pygestor" or target.startswith("pygestor."):
                yield node.lineno, target


def _layer(module: str) -> int:
    best, found = -1, len(LAYERS)
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    return found


def _family(module: str, prefixes: tuple[str, ...]) -> str | None:
    return next((p for p in prefixes if module == p or module.startswith(p + ".")), None)


def test_every_module_has_a_layer() -> None:
    assert [m for m in MODULES if _layer(m) == len(LAYERS)] == []


def test_imports_point_down() -> None:
    upward = []
    for name, path in MODULES.items():
        for line, target in _imports(name, path):
            if _layer(target) < _layer(name):
                upward.append(
                    f"{path.relative_to(ROOT.parent)}:{line}: {name} ({LAYERS[_layer(name)][0]}) "
                    f"imports {target} ({LAYERS[_layer(target)][0]})"
                )
    assert upward == []


def test_operations_do_not_import_each_other() -> None:
    crossing = []
    for name, path in MODULES.items():
        mine = _family(name, SIBLINGS)
        for line, target in _imports(name, path):
            theirs = _family(target, SIBLINGS)
            if mine and theirs and mine != theirs:
                crossing.append(f"{path.relative_to(ROOT.parent)}:{line}: {name} imports {target}")
    assert crossing == []


def test_the_test_hub_stands_alone() -> None:
    """The offline Hub is a server anyone can run: it imports nothing of pygestor's library."""
    reaching = [
        f"{name} imports {target}"
        for name, path in MODULES.items()
        if name.startswith("pygestor.testing.hub")
        for _, target in _imports(name, path)
        if not target.startswith("pygestor.testing.hub")
    ]
    assert reaching == []


def test_no_import_cycles() -> None:
    graph = {
        name: {t for _, t in _imports(name, path) if t in MODULES and t != name}
        for name, path in MODULES.items()
    }
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if nxt == "pygestor":  # the package root: every module imports it implicitly anyway
                continue
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_package_inits_stay_empty_or_lazy() -> None:
    busy = []
    for name, path in MODULES.items():
        if path.name != "__init__.py" or name in LAZY_INITS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        body = [
            n
            for n in tree.body
            if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
        ]
        if body:
            busy.append(f"{name}: {type(body[0]).__name__} at line {body[0].lineno}")
    assert busy == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{MODULES[name]}: {lines} lines; split it by concern"


def test_no_module_is_named_like_a_package_function() -> None:
    """`pygestor.load` must stay the function: a submodule of that name would replace it on
    first import (the reason the reader is `read/`, not `load.py`)."""
    import pygestor

    clashes = [m for m in MODULES if m.count(".") == 1 and m.split(".")[1] in pygestor.__all__]
    assert clashes == []


def test_the_wheel_lists_every_package() -> None:
    import tomllib

    config = tomllib.loads((ROOT.parent / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"]) - {"pygestor._catalog"}
    packages = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert listed == packages
