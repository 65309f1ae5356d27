"""Where the ontology, shapes, queries and curated data live.

In an installed wheel they are inside the package (``kg/_resources``); in a source
checkout or an editable install they are the top-level folders of the repository.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rdflib import Graph

from kg.errors import ConfigurationError

__all__ = ["parse_turtle", "read_json", "resource_path"]

_PACKAGED = Path(__file__).resolve().parent / "_resources"
_CHECKOUT = Path(__file__).resolve().parent.parent


def resource_path(*parts: str) -> Path:
    """Return the path of a shipped resource.

    :param parts: path components below the resource root, e.g. ``("queries",)``
    :returns: the path inside the installed package, or inside the source checkout
    """
    base = _PACKAGED if _PACKAGED.is_dir() else _CHECKOUT
    return base.joinpath(*parts)


def parse_turtle(path: Path, *, what: str) -> Graph:
    """Parse a Turtle file into a new graph.

    :param path: the file
    :param what: what the file is, for the error message ("the ontology", "SHACL shapes")
    :returns: the graph
    :raises ConfigurationError: if the file is missing or not valid Turtle
    """
    try:
        return Graph().parse(path, format="turtle")
    except (OSError, SyntaxError, ValueError) as error:
        raise ConfigurationError(f"cannot load {what} {path}: {error}") from error


def read_json(path: Path, *, what: str) -> Any:
    """Read a JSON file.

    :param path: the file
    :param what: what the file is, for the error message ("the JSON-LD context")
    :returns: the parsed document
    :raises ConfigurationError: if the file is missing, unreadable or not JSON
    """
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"cannot load {what} {path}: {error}") from error
