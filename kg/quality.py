"""Quality checks (stage 6 of the build): ``queries/quality/*-violation.rq`` return no rows.

As in the Ontology Development Kit, every violation query selects the offending nodes;
any row fails the build and is reported with the query's summary.
"""

from __future__ import annotations

import pyoxigraph as ox

from kg.errors import DataError, Problem
from kg.queries import quality_queries
from kg.store import run_query

__all__ = ["check_quality", "quality_problems"]


def quality_problems(store: ox.Store) -> list[Problem]:
    """Run every violation query and return one problem per row.

    :param store: the store holding the built graph
    :returns: the rows found, each naming the query (the rule) and the values of the row
    """
    problems = []
    for query in quality_queries():
        solutions = run_query(store, query.text)
        variables = [variable.value for variable in solutions.variables]
        for solution in solutions:
            cells = [f"{name}={solution[name].value}" for name in variables if solution[name] is not None]
            problems.append(Problem(query.path.name, cells[0] if cells else "(row)", query.name,
                                    f"{query.summary}: {', '.join(cells)}"))
    return problems


def check_quality(store: ox.Store) -> None:
    """Fail if any violation query returns rows.

    :param store: the store holding the built graph
    :raises DataError: with every row found
    """
    problems = quality_problems(store)
    if problems:
        raise DataError(problems, stage="quality")
