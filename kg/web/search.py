"""The search of the pages' header and of ``/api/search``: a small in-memory index.

The names (labels, synonyms, abbreviations, gene symbols, NCT ids, DOIs, trial acronyms) and
the quotes are read once when the server starts, by the stored page queries
``search-names`` and ``search-quotes``; a search is then a scan of a few
thousand strings in Python (well under a millisecond at the curated size). Results are ranked:
an exact label, abbreviation, symbol, acronym or identifier first, then an exact synonym, then
names that start with the query, then names that contain it (or all of its words), then quotes
that contain it; within a rank, shorter names first.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from kg.identifiers import ONTOLOGY_NAMESPACE
from kg.query.queries import page_query
from kg.web.pool import QueryPool

__all__ = ["MATCHES", "SearchHit", "SearchIndex"]

#: What each rank of a hit is called, best first.
MATCHES = ("exact", "exact synonym", "prefix", "substring", "quote")

#: The fields whose exact match ranks first (a synonym's exact match comes second).
_NAMING_FIELDS = {"label", "abbreviation", "gene symbol", "NCT id", "DOI", "acronym"}

#: The kind shown for an entity with several, most specific first.
_KIND_ORDER = ("SarcomaSubtype", "Study", "Arm", "Regimen", "Therapy", "MolecularTarget", "ImmuneCellType",
               "TMEFeature", "OutcomeMeasurement", "Finding", "Review", "Publication")
_KIND_NAMES = {"SarcomaSubtype": "subtype", "Study": "study", "Regimen": "regimen", "Therapy": "therapy",
               "MolecularTarget": "target", "ImmuneCellType": "immune cell type", "TMEFeature": "TME feature", "Arm": "arm or cohort",
               "OutcomeMeasurement": "measurement", "Finding": "finding", "Review": "review",
               "Publication": "publication"}

_NOT_ALNUM = re.compile(r"[\W_]+")


def _fold(text: str) -> str:
    """A name as the search compares it: case-folded, spaces collapsed."""
    return " ".join(text.casefold().split())


def _compact(text: str) -> str:
    """A name without its punctuation and spaces, so that CTLA4 finds CTLA-4 and pd1 finds PD-1."""
    return _NOT_ALNUM.sub("", text.casefold())


@dataclass(frozen=True)
class SearchHit:
    """One entity the search found.

    :param entity: its IRI
    :param label: its label (its IRI's last part if it has none)
    :param kind: what it is ("subtype", "study", ... or "ontology term")
    :param name: the name or quote that matched
    :param field: what that name is ("label", "synonym", "NCT id", "quote" ...)
    :param match: how it matched, one of :data:`MATCHES`
    """

    entity: str
    label: str
    kind: str
    name: str
    field: str
    match: str


@dataclass
class _Entry:
    entity: str
    label: str
    kind: str
    name: str
    field: str
    folded: str = dataclasses.field(init=False)
    compact: str = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.folded = _fold(self.name)
        self.compact = _compact(self.name)


class SearchIndex:
    """The names and quotes of the graph, searched in memory; empty until :meth:`load`."""

    def __init__(self) -> None:
        self._names: list[_Entry] = []
        self._quotes: list[_Entry] = []

    async def load(self, pool: QueryPool) -> None:
        """Read the names and quotes from the graph (once, when the server starts).

        :param pool: the query workers
        :raises QueryError: if a query fails
        """
        kinds: dict[str, set[str]] = {}
        names: dict[tuple[str, str, str], str] = {}
        for row in await pool.rows(page_query("search-names").render()):
            kinds.setdefault(row["entity"], set())
            if "kind" in row:
                kinds[row["entity"]].add(row["kind"].removeprefix(ONTOLOGY_NAMESPACE))
            names[(row["entity"], row["field"], row["name"])] = row.get("label", "")
        self._names = [_Entry(entity, label or _last_part(entity), _kind(entity, kinds.get(entity, set())), name,
                              name_field) for (entity, name_field, name), label in sorted(names.items())]
        quotes: dict[tuple[str, str], tuple[str, str]] = {}
        for row in await pool.rows(page_query("search-quotes").render()):
            quotes[(row["entity"], row["quote"])] = (row.get("label", ""),
                                                     row["kind"].removeprefix(ONTOLOGY_NAMESPACE))
        self._quotes = [_Entry(entity, label or _last_part(entity), _KIND_NAMES.get(kind, kind), quote, "quote")
                        for (entity, quote), (label, kind) in sorted(quotes.items())]

    def search(self, query: str, *, limit: int = 50) -> list[SearchHit]:
        """Find the entities whose names (then quotes) match a query, best first.

        :param query: the text typed (any case; punctuation ignored for an exact match)
        :param limit: the most hits returned
        :returns: one hit per entity, by rank, then by the length of the name that matched
        """
        folded, compact = _fold(query), _compact(query)
        if not compact:
            return []
        words = folded.split()
        best: dict[str, tuple[tuple[int, int, str], _Entry]] = {}

        def offer(rank: int, entry: _Entry) -> None:
            key = (rank, len(entry.name), entry.label.casefold())
            if entry.entity not in best or key < best[entry.entity][0]:
                best[entry.entity] = (key, entry)

        for entry in self._names:
            if entry.folded == folded or entry.compact == compact:
                offer(0 if entry.field in _NAMING_FIELDS else 1, entry)
            elif entry.folded.startswith(folded):
                offer(2, entry)
            elif folded in entry.folded or all(word in entry.folded for word in words):
                offer(3, entry)
        if len(best) < limit:
            for entry in self._quotes:
                if entry.entity not in best and (folded in entry.folded or all(word in entry.folded for word in words)):
                    offer(4, entry)
        ranked = sorted(best.values(), key=lambda item: item[0])[:limit]
        return [SearchHit(entry.entity, entry.label, entry.kind, entry.name, entry.field, MATCHES[key[0]])
                for key, entry in ranked]


def _last_part(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1]


def _kind(entity: str, kinds: set[str]) -> str:
    """The kind shown for an entity: its most specific page kind, or "ontology term"."""
    for kind in _KIND_ORDER:
        if kind in kinds:
            return _KIND_NAMES[kind]
    return "ontology term" if entity.startswith(ONTOLOGY_NAMESPACE) else "entity"
