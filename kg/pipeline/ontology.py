"""Load the OWL ontology (``ontology/sarcoma-kg.ttl``) with its extracted import modules.

The build, the reasoner, the ontology reference and the pages read the ontology through
:func:`load_ontology`; imports resolve to the files under ``ontology/imports`` (as a ROBOT
catalog would map them), never to the network.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from rdflib import OWL, Graph

from kg.errors import ConfigurationError
from kg.identifiers import ONTOLOGY_IRI
from kg.resources import parse_turtle, resource_path

__all__ = ["IMPORTS_BASE", "import_paths", "load_ontology"]


@cache
def _ontology_path() -> Path:
    return resource_path("ontology", "sarcoma-kg.ttl")


#: Where the ontology's import modules live: ``owl:imports <ONTOLOGY_IRI/imports/NAME>`` is
#: the file ``imports/NAME.ttl`` beside the ontology (as a ROBOT catalog would map it); the
#: build never fetches an import from the network.
IMPORTS_BASE = f"{ONTOLOGY_IRI}/imports/"


def import_paths(ontology: Graph, path: Path) -> list[Path]:
    """The files of the import modules an ontology declares.

    :param ontology: the parsed ontology
    :param path: the ontology's file (its modules are in ``imports/`` beside it)
    :returns: one Turtle file per ``owl:imports``, in IRI order
    :raises ConfigurationError: if an import is not one of the project's modules
    """
    paths = []
    for target in sorted(map(str, ontology.objects(None, OWL.imports))):
        if not target.startswith(IMPORTS_BASE) or "/" in target.removeprefix(IMPORTS_BASE):
            raise ConfigurationError(f"{path.name}: owl:imports <{target}> is not a module under {IMPORTS_BASE}; "
                                     "extract the terms used into ontology/imports/ instead")
        paths.append(path.parent / "imports" / f"{target.removeprefix(IMPORTS_BASE)}.ttl")
    return paths


def load_ontology(path: Path | None = None) -> Graph:
    """Parse the OWL ontology with its import modules.

    :param path: an ontology file in Turtle (default: the shipped one)
    :returns: the ontology's triples and those of the modules it imports
    :raises ConfigurationError: if it or a module is missing or not valid Turtle
    """
    path = path or _ontology_path()
    ontology = parse_turtle(path, what="the ontology")
    for module in import_paths(ontology, path):
        ontology += parse_turtle(module, what="the ontology's import module")
    return ontology
