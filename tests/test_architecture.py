"""The code keeps the layers ARCHITECTURE.md describes.

The layer table of ARCHITECTURE.md is the one statement of the layout: every module of the
package is in it, each in the package it names, and a module imports only modules of its own
layer or of a lower one, never another module's private name, and no import cycle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "ARCHITECTURE.md"
_ROW = re.compile(r"^\| (\d+) (\w+) \| `kg/(?:(\w+)/)?` \| ((?:`\w+` ?)+) \|$")


def layer_table(text: str) -> dict[str, tuple[int, str]]:
    """Module (dotted name) → (layer number, layer name), from the table under "## Layers"."""
    section = text.split("\n## Layers\n", 1)[1].split("\n## ", 1)[0]
    table: dict[str, tuple[int, str]] = {}
    for line in section.splitlines():
        if match := _ROW.match(line):
            number, name, package, modules = match.groups()
            for module in re.findall(r"`(\w+)`", modules):
                table[".".join(filter(None, ("kg", package, module)))] = (int(number), name)
    return table


def package_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package (``__init__`` files aside), by dotted name."""
    return {".".join(path.relative_to(root).with_suffix("").parts): path
            for path in (root / "kg").rglob("*.py") if path.name != "__init__.py"}


def kg_imports(path: Path, known: set[str]) -> list[tuple[str, str, int]]:
    """The package modules a file imports, anywhere in it (functions too): (module, name, line).

    ``from kg.a import b`` imports the module ``kg.a.b`` where there is one, else the name ``b``
    of ``kg.a``.
    """
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, "", node.lineno) for alias in node.names if alias.name.startswith("kg.")]
        elif isinstance(node, ast.ImportFrom) and node.module and (node.module == "kg" or node.module.startswith("kg.")):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.append((submodule, "", node.lineno) if submodule in known else (node.module, alias.name, node.lineno))
    return found


def layer_problems(table: dict[str, tuple[int, str]], modules: dict[str, Path]) -> list[str]:
    """What breaks the layering: an import upwards, a private name of another module."""
    problems = []
    for module, path in sorted(modules.items()):
        own = table[module][0]
        for target, name, line in kg_imports(path, set(modules)):
            where = f"{module.replace('.', '/')}.py:{line}"
            if target in table and table[target][0] > own:
                problems.append(f"{where}: {module} ({table[module][1]}) imports {target} ({table[target][1]}), a layer above")
            if name.startswith("_") and not name.startswith("__") and target != module:
                problems.append(f"{where}: {module} imports {target}.{name}, a private name")
    return problems


def import_cycles(modules: dict[str, Path]) -> list[list[str]]:
    """Cycles among the package's module-level imports (an import inside a function is lazy)."""
    edges: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = ast.Module(body=[node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)], type_ignores=[])
        edges[module] = set()
        for node in ast.walk(top):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kg."):
                edges[module] |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                                  for a in node.names}
            elif isinstance(node, ast.Import):
                edges[module] |= {alias.name for alias in node.names if alias.name in modules}
    cycles, state = [], dict.fromkeys(modules, 0)

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges[module] & set(modules)):
            if state[target] == 1:
                cycles.append([*trail[trail.index(target):], target])
            elif state[target] == 0:
                visit(target, [*trail, target])
        state[module] = 2

    for module in sorted(modules):
        if state[module] == 0:
            visit(module, [module])
    return cycles


def test_architecture_lists_every_module_where_it_is() -> None:
    table, modules = layer_table(ARCHITECTURE.read_text(encoding="utf-8")), package_modules()
    assert set(table) == set(modules), (
        f"ARCHITECTURE.md's layer table and kg/ differ: not in the table {sorted(set(modules) - set(table))}, "
        f"not in kg/ {sorted(set(table) - set(modules))}")


def test_no_module_imports_a_layer_above_or_a_private_name() -> None:
    table, modules = layer_table(ARCHITECTURE.read_text(encoding="utf-8")), package_modules()
    assert not layer_problems(table, modules)


def test_no_import_cycle() -> None:
    assert not import_cycles(package_modules())


def test_every_package_says_what_it_is_for() -> None:
    for init in (ROOT / "kg").rglob("__init__.py"):
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), f"{init.relative_to(ROOT)} has no docstring"


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """A package of two layers where the lower one imports the upper one and a private name."""
    for name, text in {"low/a.py": "from kg.high.b import thing\n", "high/b.py": "from kg.low.a import _secret\n"}.items():
        (tmp_path / "kg" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "kg" / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_the_checks_find_a_planted_upward_import_a_private_name_and_a_cycle(planted: Path) -> None:
    table = layer_table("\n## Layers\n\n| 0 low | `kg/low/` | `a` |\n| 1 high | `kg/high/` | `b` |\n")
    modules = package_modules(planted)
    assert set(table) == set(modules) == {"kg.low.a", "kg.high.b"}
    assert layer_problems(table, modules) == [
        "kg/high/b.py:1: kg.high.b imports kg.low.a._secret, a private name",
        "kg/low/a.py:1: kg.low.a (low) imports kg.high.b (high), a layer above",
    ]
    assert import_cycles(modules) == [["kg.high.b", "kg.low.a", "kg.high.b"]]
