"""Where the ontology, shapes, queries and curated data live.

In an installed wheel they are inside the package (``kg/_resources``); in a source
checkout or an editable install they are the top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["resource_path"]

_PACKAGED = Path(__file__).resolve().parent / "_resources"
_CHECKOUT = Path(__file__).resolve().parent.parent


def resource_path(*parts: str) -> Path:
    """Return the path of a shipped resource.

    :param parts: path components below the resource root, e.g. ``("queries",)``
    :returns: the path inside the installed package, or inside the source checkout
    """
    base = _PACKAGED if _PACKAGED.is_dir() else _CHECKOUT
    return base.joinpath(*parts)
