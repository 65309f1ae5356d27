"""The tests use the package's public names only.

A test that imports ``kg.pipeline.records._bound_problems`` or reads ``pool._idle`` pins an
internal detail: a refactoring that keeps every behaviour breaks it, and a user of the library
has no such name to rely on. What a test needs is given a public, documented name instead
(``QueryPool.status()``, ``BackgroundTurtle.workdir``, ``records.bound_problems`` ...).

The check reads each ``tests/*.py`` with :mod:`ast` and reports, with file and line:

- an import of a private name from ``kg`` (``from kg.cli import _sizes``, ``import kg._x``);
- a private attribute (``_x``, not ``__x__``) of anything but ``self``, ``cls`` or a module of
  another package (``os._exit`` is allowed): ``kg.web.pool._Worker``, ``QueryPool._spawn``,
  ``pool._idle`` on an instance;
- a dotted ``kg`` path with a private part in a string (``monkeypatch.setattr("kg.x._y", ...)``,
  ``mock.patch``), and a private attribute named as a string to ``monkeypatch.setattr``,
  ``getattr``, ``setattr``, ``hasattr`` or ``delattr``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
#: A dotted path into the package, as ``monkeypatch.setattr`` and ``mock.patch`` take it.
_KG_PATH = re.compile(r"kg(?:\.\w+)+")
#: The functions that name an attribute by a string as their second argument.
_BY_NAME = frozenset({"setattr", "getattr", "hasattr", "delattr"})
#: Public methods of namedtuples that start with an underscore.
_NAMEDTUPLE = frozenset({"_asdict", "_fields", "_field_defaults", "_make"})


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_kg(module: str) -> bool:
    return module == "kg" or module.startswith("kg.")


def _root(node: ast.expr) -> str | None:
    """The name an attribute chain starts from (``pool`` for ``pool._all[0].process``)."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def private_uses(source: str) -> list[str]:
    """Find the uses of private names of ``kg`` in a test module's source.

    :param source: Python source text
    :returns: one ``"<line>: <what>"`` per use, in line order
    """
    tree = ast.parse(source)
    others: set[str] = set()  # names bound to modules and objects of other packages
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_kg(alias.name):
                    if any(_private(part) for part in alias.name.split(".")):
                        found.append((node.lineno, f"import {alias.name}"))
                else:
                    others.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level == 0 and _is_kg(node.module):
                for alias in node.names:
                    if _private(alias.name) or any(_private(part) for part in node.module.split(".")):
                        found.append((node.lineno, f"from {node.module} import {alias.name}"))
            elif node.level == 0:
                others.update(alias.asname or alias.name for alias in node.names)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in _NAMEDTUPLE:
            if _root(node.value) not in {"self", "cls", *others}:
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _KG_PATH.fullmatch(node.value):
            if any(_private(part) for part in node.value.split(".")):
                found.append((node.lineno, repr(node.value)))
        elif isinstance(node, ast.Call) and len(node.args) >= 2:
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
            attribute = node.args[1]
            if (name in _BY_NAME and isinstance(attribute, ast.Constant) and isinstance(attribute.value, str)
                    and _private(attribute.value) and _root(node.args[0]) not in others):
                found.append((node.lineno, f"{ast.unparse(node.args[0])} attribute {attribute.value!r}"))
    return [f"{line}: {what}" for line, what in sorted(set(found))]


@pytest.mark.parametrize("path", sorted(TESTS.glob("*.py")), ids=lambda path: path.name)
def test_tests_use_no_private_name_of_the_package(path: Path) -> None:
    uses = private_uses(path.read_text(encoding="utf-8"))
    assert not uses, (f"{path.name} uses private names of kg (give what the test needs a public, documented "
                      "name in the package):\n" + "\n".join(f"  {path.name}:{use}" for use in uses))


@pytest.mark.parametrize(("source", "expected"), [
    ("from kg.cli import _sizes, main", ["1: from kg.cli import _sizes"]),
    ("import kg._internal.store", ["1: import kg._internal.store"]),
    ("import kg.web.pool\nkg.web.pool._Worker.connect", ["2: kg.web.pool._Worker"]),
    ("from kg.web.pool import QueryPool\nQueryPool._spawn", ["2: QueryPool._spawn"]),
    ("from kg.web import pool as p\np._MAX_RETRY_SECONDS", ["2: p._MAX_RETRY_SECONDS"]),
    ("pool = make()\nif pool._idle.empty(): pass", ["2: pool._idle"]),
    ("pending._state['dir']", ["1: pending._state"]),
    ("worker = pool._all[0]", ["1: pool._all"]),
    ("monkeypatch.setattr('kg.web.pool._Worker.connect', connect)", ["1: 'kg.web.pool._Worker.connect'"]),
    ("mock.patch('kg.pipeline.records._BOUND')", ["1: 'kg.pipeline.records._BOUND'"]),
    ("monkeypatch.setattr(pool, '_spawn', slow)", ["1: pool attribute '_spawn'"]),
    ("getattr(turtle, '_state')", ["1: turtle attribute '_state'"]),
], ids=lambda value: value if isinstance(value, str) else "")
def test_a_planted_private_use_is_found(source: str, expected: list[str]) -> None:
    """The check must be able to fail: each planted use is reported with its line."""
    assert private_uses(source) == expected


@pytest.mark.parametrize("source", [
    "from kg.web.pool import QueryPool\npool = QueryPool(path)\npool.status().idle",
    "class Parser:\n    def feed(self):\n        self._current = None",
    "import os\nos._exit(0)",
    "import sys\nsys._getframe()",
    "from collections import namedtuple\nrow._asdict()",
    "value.__class__.__name__",
    "monkeypatch.setattr(kg.pipeline.build, 'reason', fake)",
    "monkeypatch.setattr('kg.pipeline.build.reason', fake)",
    "text = 'kg._private is mentioned in prose'",
])
def test_public_uses_pass(source: str) -> None:
    assert private_uses(source) == []
