"""The curator's check (``sarcoma-kg check-curation``): the records, and every quote against the reviews.

The records are loaded with every check of :func:`kg.pipeline.records.load_records` (schema,
unique ids, references, the rules on numbers and identifiers); then every evidence quote
must be verbatim in its review's text (:func:`kg.pipeline.quotes.quote_problems`). On
request the report also lists the review sentences no quote covers, where to look for a
fact not yet recorded (:func:`kg.pipeline.quotes.uncovered_sentences`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.errors import Problem
from kg.pipeline.quotes import Passage, check_sources, quote_problems, uncovered_sentences
from kg.pipeline.records import load_records

__all__ = ["CurationReport", "check_curation"]


@dataclass(frozen=True)
class CurationReport:
    """What the curation check found.

    :param records: how many records of each kind were checked, in the records' order
    :param problems: one problem per quote that is not verbatim in its review (empty when clean)
    :param uncovered: the review sentences no quote covers, or None when they were not asked for
    """

    records: Mapping[str, int]
    problems: tuple[Problem, ...]
    uncovered: tuple[Passage, ...] | None = None

    def summary(self) -> str:
        """One line: the quote problems and the records checked, by kind."""
        kinds = ", ".join(f"{kind} {count}" for kind, count in self.records.items())
        return f"{len(self.problems)} quote problem(s); {sum(self.records.values())} records ({kinds})"

    def lines(self) -> list[str]:
        """The report as text: the uncovered sentences (if asked for), then the summary."""
        lines = [f"{passage.review} @{passage.offset}: {passage.text}" for passage in self.uncovered or ()]
        if self.uncovered is not None:
            lines.append(f"{len(self.uncovered)} sentence(s) no quote covers")
        return [*lines, self.summary()]

    def as_json(self) -> dict[str, Any]:
        """The report as a JSON document (``problems`` with file, record, rule and message)."""
        document: dict[str, Any] = {
            "records": dict(self.records),
            "problems": [{"file": problem.file, "record": problem.record, "rule": problem.rule,
                          "message": problem.message} for problem in self.problems],
        }
        if self.uncovered is not None:
            document["uncovered"] = [{"review": passage.review, "offset": passage.offset, "text": passage.text}
                                     for passage in self.uncovered]
        return document


def check_curation(sources: Path, *, records_dir: Path | None = None, uncovered: bool = False) -> CurationReport:
    """Check the curated records and that every quote is verbatim in its review.

    :param sources: the directory with the reviews' text files (the repository's ``sources/``)
    :param records_dir: the curated records (default: the shipped ones)
    :param uncovered: also list the review sentences no quote covers
    :returns: the report (its ``problems`` are the quotes not found verbatim)
    :raises ConfigurationError: if ``sources`` is no directory, or a review's text or a record
        file cannot be read
    :raises DataError: if the records fail their checks (schema, references, rules)
    """
    check_sources(sources)
    records = load_records(records_dir)
    return CurationReport(
        records=dict(Counter(record.kind for record in records.records)),
        problems=tuple(quote_problems(records, sources)),
        uncovered=tuple(uncovered_sentences(records, sources)) if uncovered else None,
    )
