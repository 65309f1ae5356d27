"""Quality checks (stage 6 of the build): ``queries/quality/*-violation.rq`` return no rows.

As in the Ontology Development Kit, every violation query selects the offending nodes;
any row fails the build and is reported with the query's summary.
"""

from __future__ import annotations

import pyoxigraph as ox

from kg.errors import DataError, Problem
from kg.pipeline.records import RecordSet
from kg.query.queries import quality_queries
from kg.query.store import select

__all__ = ["check_quality", "quality_problems"]


def quality_problems(store: ox.Store, *, records: RecordSet | None = None) -> list[Problem]:
    """Run every violation query and return one problem per row.

    :param store: the store holding the built graph
    :param records: the records the graph came from, to name the file of the offending record
    :returns: the rows found, each naming the files and records of the curated nodes in
        the row, the query (the rule) and the values of the row
    """
    problems = []
    for query in quality_queries():
        solutions = select(store, query.text)
        variables = [variable.value for variable in solutions.variables]
        for solution in solutions:
            values = [solution[name] for name in variables]
            cells = [f"{name}={value.value}" for name, value in zip(variables, values) if value is not None]
            located = [found for value in values if isinstance(value, ox.NamedNode) and records is not None
                       and (found := records.locate(value.value)) is not None]
            if located:
                file = ", ".join(dict.fromkeys(f for f, _ in located))
                record = ", ".join(dict.fromkeys(r for _, r in located))
            else:
                file, record = query.path.name, cells[0] if cells else "(row)"
            problems.append(Problem(file, record, query.name, f"{query.summary}: {', '.join(cells)}"))
    return problems


def check_quality(store: ox.Store, *, records: RecordSet | None = None) -> None:
    """Fail if any violation query returns rows.

    :param store: the store holding the built graph
    :param records: the records the graph came from, to name files in the report
    :raises DataError: with every row found
    """
    problems = quality_problems(store, records=records)
    if problems:
        raise DataError(problems, stage="quality")
