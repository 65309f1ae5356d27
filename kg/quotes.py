"""Check that every quote of the curated records is verbatim in its review.

The reviews are not shipped with the package; the caller passes the directory holding
their text (``../shared/sources`` in the tests). Whitespace is compared loosely (runs of
spaces, tabs and line breaks are one space: the PDF text breaks lines and table cells
arbitrarily); every other character must match exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from kg.errors import Problem
from kg.records import RecordSet

__all__ = ["iter_quotes", "normalize_whitespace", "quote_problems"]

_SPACE = re.compile(r"\s+")


def normalize_whitespace(text: str) -> str:
    """Fold every run of white space into one space and strip the ends.

    :param text: any text
    :returns: the text with white space folded
    """
    return _SPACE.sub(" ", text).strip()


def iter_quotes(records: RecordSet) -> Iterator[tuple[Any, str, str]]:
    """Yield (record, review id, quote) for every evidence quote of the records.

    :param records: checked records
    """
    for record in records.records:
        evidences = record.data.get("evidence")
        if isinstance(evidences, Mapping):
            evidences = [evidences]
        for evidence in evidences or []:
            yield record, evidence["review"], evidence["quote"]


def quote_problems(records: RecordSet, sources: Path) -> list[Problem]:
    """Return a problem for every quote that is not verbatim in its review's text.

    :param records: checked records
    :param sources: the directory with the reviews' text files
    :returns: one problem per quote not found (empty when all are verbatim)
    """
    texts: dict[str, str] = {}
    for review_record in records.of_kind("reviews"):
        path = sources / review_record.data["source_file"]
        texts[review_record.id] = normalize_whitespace(path.read_text(encoding="utf-8"))
    problems = []
    for record, review, quote in iter_quotes(records):
        if normalize_whitespace(quote) not in texts[review]:
            problems.append(Problem(record.file, record.id, "verbatim-quote",
                                    f"quote is not verbatim in {review}: {quote[:80]!r}"))
    return problems
