"""Check that every quote of the curated records is verbatim in its review.

The reviews are not shipped with the package; the caller passes the directory holding
their text (the repository's ``sources/``, CC BY 4.0, in the tests and commands). Whitespace is compared loosely (runs of
spaces, tabs and line breaks are one space: the PDF text breaks lines and table cells
arbitrarily); every other character must match exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.errors import ConfigurationError, Problem
from kg.pipeline.records import RecordSet

__all__ = ["Passage", "check_sources", "iter_quotes", "normalize_whitespace", "quote_problems", "reference_entries", "review_texts", "uncovered_sentences"]

_SPACE = re.compile(r"\s+")
#: Where a sentence ends: a full stop, question or exclamation mark (after a closing
#: citation or quote mark too) followed by a space and a capital letter.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
#: An entry of a list: "- text" or "12. text".
_ENTRY = re.compile(r"^(?:- |\d+\. )(.*)$")
#: The reference list, which no quote is taken from.
_REFERENCES = re.compile(r"^References\b", re.MULTILINE)


@dataclass(frozen=True)
class Passage:
    """A sentence of a review that no quote covers.

    :param review: the review's id
    :param offset: where the sentence starts in the review's whitespace-folded text
    :param text: the sentence (whitespace folded)
    """

    review: str
    offset: int
    text: str


def normalize_whitespace(text: str) -> str:
    """Fold every run of white space into one space and strip the ends.

    :param text: any text
    :returns: the text with white space folded
    """
    return _SPACE.sub(" ", text).strip()


def check_sources(sources: Path) -> Path:
    """Check that the directory of the reviews' text exists, before any work is done.

    :param sources: the directory with the reviews' text files (the repository's ``sources/``)
    :returns: ``sources``
    :raises ConfigurationError: if it is not a directory
    """
    if not sources.is_dir():
        raise ConfigurationError(f"no directory of review texts at {sources} (give it with --sources)")
    return sources


def iter_quotes(records: RecordSet) -> Iterator[tuple[Any, str, str]]:
    """Yield (record, review id, quote) for every evidence quote of the records.

    :param records: checked records
    :returns: an iterator of (record, review id, quote), in the records' order
    """
    for record in records.records:
        evidences = record.data.get("evidence")
        if isinstance(evidences, Mapping):
            evidences = [evidences]
        for evidence in evidences or []:
            yield record, evidence["review"], evidence["quote"]


def review_texts(records: RecordSet, sources: Path) -> dict[str, str]:
    """Read the text of every review the records describe.

    :param records: checked records
    :param sources: the directory with the reviews' text files
    :returns: review id to its text, as in the file
    :raises ConfigurationError: if a review's file cannot be read as UTF-8
    """
    texts = {}
    for review_record in records.of_kind("reviews"):
        path = sources / review_record.data["source_file"]
        try:
            texts[review_record.id] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigurationError(f"cannot read the review {review_record.id}: {error}") from error
    return texts


def reference_entries(text: str) -> list[str]:
    """Return the list entries of a text, such as a review's reference list, in order.

    An entry is a line starting with "- " or "N. " (the PDF text lost some numbers); a
    "- " line after an entry cut at a hyphen ("...in the tumor-") continues it, joined by
    one space.

    :param text: the text (give it from the list's heading on to skip earlier lists)
    :returns: the entries, stripped, as printed
    """
    found: list[str] = []
    for line in text.splitlines():
        match = _ENTRY.match(line)
        if not match:
            continue
        entry = match.group(1).strip()
        if found and line.startswith("- ") and found[-1].endswith("-"):
            found[-1] = f"{found[-1]} {entry}"
        else:
            found.append(entry)
    return found


def quote_problems(records: RecordSet, sources: Path) -> list[Problem]:
    """Return a problem for every quote that is not verbatim in its review's text.

    :param records: checked records
    :param sources: the directory with the reviews' text files
    :returns: one problem per quote not found (empty when all are verbatim)
    :raises ConfigurationError: if a review's file cannot be read
    """
    texts = {review: normalize_whitespace(text) for review, text in review_texts(records, sources).items()}
    problems = []
    for record, review, quote in iter_quotes(records):
        if normalize_whitespace(quote) not in texts[review]:
            problems.append(Problem(record.file, record.id, "verbatim-quote",
                                    f"quote is not verbatim in {review}: {quote[:80]!r}"))
    return problems


def uncovered_sentences(records: RecordSet, sources: Path, *, min_length: int = 40,
                        covered_share: float = 0.5) -> list[Passage]:
    """Return the sentences of the reviews' bodies that the curated quotes leave out.

    A curator's to-do list: a sentence counts as covered when at least ``covered_share`` of
    its characters lie inside some quote of its review. The reference lists are skipped.
    Many uncovered sentences hold no fact to record (background, opinion, funding); the
    list says where to look, not what is missing.

    :param records: checked records
    :param sources: the directory with the reviews' text files
    :param min_length: shorter sentences (headings, fragments) are not listed
    :param covered_share: the share of a sentence's characters that quotes must cover
    :returns: the uncovered sentences, review by review, in reading order
    :raises ConfigurationError: if a review's file cannot be read
    """
    quotes: dict[str, set[str]] = {}
    for _record, review, quote in iter_quotes(records):
        quotes.setdefault(review, set()).add(normalize_whitespace(quote))
    passages = []
    for review, raw in review_texts(records, sources).items():
        if (end := _REFERENCES.search(raw)) is not None:
            raw = raw[:end.start()]
        text = normalize_whitespace(raw)
        covered = bytearray(len(text))
        for quote in quotes.get(review, ()):
            start = text.find(quote)
            while start >= 0:
                covered[start:start + len(quote)] = b"\x01" * len(quote)
                start = text.find(quote, start + 1)
        position = 0
        for sentence in _SENTENCE_END.split(text):
            position, length = text.index(sentence, position), len(sentence)
            if length >= min_length and sum(covered[position:position + length]) < covered_share * length:
                passages.append(Passage(review, position, sentence))
            position += length
    return passages
