"""The curation coverage check for numbers: which figures the reviews print that no structured value holds.

A figure is a number written in digits in a review's text or tables (the reference list is
left out). It is *held* when a record quotes the passage it stands in and one of the
record's structured fields holds it: a measurement's ``numeric``, ``numerator``,
``denominator``, ``time_value`` or the numbers of its ``value`` as written; a finding's
``cohort_size`` or one of its structured ``values`` (``numeric``, ``numerator``,
``denominator`` or the numbers of the value as written). It is *excluded* when one of
:data:`EXCLUSIONS` says why it is no figure to record (a reference number, a year, a dose,
an age, a table or phase number, a digit of a name such as PD-L1 or CD8 ...), each rule
with its reason. The rest are *unexplained*; the ones already known are listed, with what
is known of them, in ``data/coverage/unexplained.tsv`` (:data:`BACKLOG`), so that the check
fails on a new one only. Numbers written in words ("four of ten") are not looked for.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from kg.errors import ConfigurationError, Problem
from kg.pipeline.numbers import number_lexical, numbers_in
from kg.pipeline.quotes import check_sources, iter_quotes, normalize_whitespace, review_texts
from kg.pipeline.records import RecordSet, load_records
from kg.resources import resource_path

__all__ = ["BACKGROUND", "BACKGROUND_KINDS", "BACKLOG", "EXCLUSIONS", "REGIONS", "CoverageReport", "Exclusion", "Figure", "background_spans", "check_coverage", "exclusion_for", "figure_coverage", "read_backlog", "write_backlog"]

#: The unexplained figures known so far, with what is known of each.
BACKLOG = ("data", "coverage", "unexplained.tsv")
_BACKLOG_COLUMNS = ("review", "figure", "context", "reason")
#: Characters of context kept either side of a figure (its key in the backlog, with the review and the figure).
_CONTEXT = 40
#: A number in digits: with thousands separators ("102,292") or a decimal point ("35.6", "65·6").
_FIGURE = re.compile(r"(?<![\d.,·])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.·]\d+)?)(?![\d])")
#: Where each review's result-bearing part starts and ends.
REGIONS = ("data", "coverage", "regions.yaml")
#: Passages whose figures are no result to record, each with its kind (a key of BACKGROUND_KINDS).
BACKGROUND = ("data", "coverage", "background.yaml")
#: Why the figures of a background passage are no result to record, by the passage's kind.
BACKGROUND_KINDS: Mapping[str, str] = {
    "epidemiology": "background epidemiology (a share of cancers, a number of subtypes), no result of a therapy or biomarker",
    "another-cancer": "a result in another cancer that the review compares with (no sarcoma to record it for)",
    "diagnostic-criterion": "a criterion proposed for telling subtypes apart, not a result",
    "design-benchmark": "the rate a trial's design considered clinically meaningful, a benchmark rather than a result",
}
#: The structured fields of each kind of record that hold a number (a text field: the numbers written in it).
HOLDING_FIELDS: Mapping[str, tuple[str, ...]] = {
    "measurements": ("numeric", "numerator", "denominator", "time_value", "value"),
    "findings": ("cohort_size",),
}
#: The fields of a finding's structured values (``values``) that hold a number.
VALUE_HOLDING_FIELDS = ("numeric", "numerator", "denominator", "value", "category")


@dataclass(frozen=True)
class Exclusion:
    """A rule that says why a number is no figure to record.

    :param name: the rule's name
    :param reason: why numbers it matches are not figures
    :param before: a pattern the text just before the number must end with ('' for any)
    :param after: a pattern the text just after the number must start with ('' for any)
    """

    name: str
    reason: str
    before: str = ""
    after: str = ""

    def matches(self, before: str, after: str) -> bool:
        """Whether the number between these two stretches of text is excluded by the rule.

        :param before: the text before the number (its last characters count)
        :param after: the text after the number
        :returns: True if both patterns match
        """
        return bool((not self.before or re.search(f"(?:{self.before})$", before))
                    and (not self.after or re.match(self.after, after)))


_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
#: Why a number is no figure, checked in this order (the first that matches gives the reason).
EXCLUSIONS: tuple[Exclusion, ...] = (
    Exclusion("citation", "a reference number the review cites",
              before=r"[\[(]\s*(?:\d+\s*[,–-]\s*)*", after=r"(?:\s*[,–-]\s*\d+)*\s*[\])]"),
    Exclusion("name", "a digit of a name (PD-L1, CD8, IL-2, B7-H3, HLA-A*02, NCT number, 4-1BB ...)",
              before=r"[A-Za-zα-ωΑ-Ω][-*/]?|[A-Za-z]+-\d+-", after=""),
    Exclusion("name-word", "a digit of a name (programmed death 1, protein 4, activation gene 3 ...)",
              before=r"(?i:protein|death|ligand|receptor|interleukin|antigen|gene)[- ]"),
    Exclusion("gene-name", "a digit of a name (New York esophageal squamous cell carcinoma 1 gene)", after=r"\s+gene\b"),
    Exclusion("trial-name", "a number in a trial's name (HEROS 2.0 phase I trial)",
              before=r"\b[A-Z][A-Z0-9-]{2,}\s", after=r"\s+(?:phase|trial|study)\b"),
    Exclusion("source-count", "the number of databases or institutes a study drew its samples from (its design, not a result)",
              after=r"\s+(?:public\s+)?(?:databases|institutes|institutions|centers|centres)\b"),
    Exclusion("endpoint-time-point", "the time point of an endpoint the sentence names without giving a value of it",
              after=r"-(?:month|year|week)\s+(?:non-progression|progression-free survival|overall survival|survival)\b(?![^.;]*\d)"),
    Exclusion("locant", "a locant of a chemical name (indoleamine 2,3-dioxygenase)", after=r"(?:,\d+)+-[a-z]"),
    Exclusion("power", "a power of ten or its exponent (a dose or count in scientific notation)",
              before=r"(?:\\times|×)\s*|\^\{?", after=""),
    Exclusion("name-prefix", "a digit that starts a name (4-1BB, 3D, 5-FU, 2D culture)", after=r"-?[A-Za-z]{1,3}\d*\b(?!-(?:month|year|week|day))"),
    Exclusion("label", "a table, figure, section, phase, grade, stage, class or line-of-therapy number",
              before=r"(?i:table|figure|fig\.|section|phase|grade|stage|class|type|arm|cohort|step|version|line|level)\s+(?:\d+\s*(?:/|and|or|-|–)\s*)?"),
    Exclusion("year", "a year", after=r"(?![%]|[.,·]\d|\s*(?:patients|samples|specimens|tumors|cases))"),
    Exclusion("date", "a day of a date", after=rf"\s+(?:{_MONTHS})\b"),
    Exclusion("dose", "a dose or dosing schedule",
              after=r"(?:\s*[-–]\s*\d+)?\s*(?:\\times\s*10|mg|µg|μg|mcg|g/|Gy\b|IU\b|MIU|units?/|mL|×\s*10|x\s*10|cycles?\b|doses?\b|fractions?\b)"),
    Exclusion("age", "an age", before=r"(?i:aged?|ages|age of|years of age)\s+(?:\d+\s*(?:–|-|to)\s*)?"),
    Exclusion("age-range", "an age", before=r"(?i:\bage\b[^.;\d]{0,30}?)(?:\d+\s*(?:–|-|to|and)\s*)?",
              after=r"(?:\s*(?:–|-|to|and)\s*\d+)?\s*years\b"),
    Exclusion("age-after", "an age", after=r"(?:-| )?(?:year|yr)s?[- ]old"),
    Exclusion("affiliation", "an author's affiliation mark", before=r"\^\{[\d,*]*"),
    Exclusion("page", "a page, volume or issue number, DOI or copyright line",
              before=r"(?i:doi[: ]\S*|pp?\.\s*|vol\.\s*|https?://\S*|©\s*(?:the author\(s\)\s*)?)"),
)
_YEAR = re.compile(r"(?:19|20)\d\d")
#: The rules that say a number is part of something else (a citation, a name, a page ...), never a
#: figure even inside a quote whose record holds the same number (the 1 of PD-L1 beside "≥ 1%");
#: the others (a label, a name's first digit, a year, a dose, an age) can match a printed figure
#: ("40 BS cohort 18%", "(4PR)"), so they apply only to the numbers no structured value holds.
_NOT_A_FIGURE = frozenset({"citation", "name", "name-word", "locant", "power", "affiliation", "page"})


@dataclass(frozen=True)
class Figure:
    """A number a review prints.

    :param review: the review's id
    :param offset: where it stands in the review's whitespace-folded text
    :param text: the number as printed
    :param context: the text around it (whitespace folded)
    :param status: ``held``, ``excluded`` or ``unexplained``
    :param reason: the exclusion's reason, or what is known of an unexplained figure
    """

    review: str
    offset: int
    text: str
    context: str
    status: str
    reason: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies the figure in the backlog: the review, the figure and its context."""
        return self.review, self.text, self.context


@dataclass(frozen=True)
class CoverageReport:
    """What the coverage check found.

    :param figures: every figure, review by review, in reading order
    :param new: the unexplained figures the backlog does not list
    :param stale: backlog rows that no unexplained figure matches any more (held, excluded or gone)
    """

    figures: tuple[Figure, ...]
    new: tuple[Figure, ...]
    stale: tuple[tuple[str, str, str], ...]

    def of_status(self, status: str) -> list[Figure]:
        """The figures of one status.

        :param status: ``held``, ``excluded`` or ``unexplained``
        :returns: those figures, in order
        """
        return [figure for figure in self.figures if figure.status == status]

    def problems(self) -> list[Problem]:
        """One problem for each new unexplained figure (a figure neither held, excluded nor in the backlog)."""
        return [Problem(f"sources ({figure.review})", f"@{figure.offset}", "figure-coverage",
                        f"{figure.text!r} in '{figure.context}': {figure.reason}") for figure in self.new]

    def summary(self) -> str:
        """A few lines saying how many figures are held, excluded (by rule) and unexplained."""
        excluded = Counter(figure.reason for figure in self.of_status("excluded"))
        lines = [(f"{len(self.figures)} figure(s) printed in the result-bearing text and tables of the reviews "
                 f"(front and back matter left out: {'/'.join(REGIONS)})"),
                 f"  held by a structured value: {len(self.of_status('held'))}",
                 f"  excluded, with their reason: {sum(excluded.values())}"]
        lines += [f"    {count:5d}  {reason}" for reason, count in excluded.most_common()]
        lines.append(f"  unexplained: {len(self.of_status('unexplained'))} "
                     f"(listed in {'/'.join(BACKLOG)}: {len(self.of_status('unexplained')) - len(self.new)}, new: {len(self.new)})")
        if self.stale:
            lines.append(f"  backlog rows no longer unexplained (remove them): {len(self.stale)}")
        return "\n".join(lines)


def _held_numbers(record_data: Mapping[str, Any], fields: Sequence[str]) -> set[Decimal]:
    held: set[Decimal] = set()
    for name in fields:
        value = record_data.get(name)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            held.add(Decimal(number_lexical(value)))
        elif isinstance(value, str):
            held |= numbers_in(value)
    return held


def _spans(text: str, quote: str) -> Iterator[tuple[int, int]]:
    start = text.find(quote)
    while start >= 0:
        yield start, start + len(quote)
        start = text.find(quote, start + 1)


def _value(figure: str) -> Decimal | None:
    try:
        return Decimal(figure.replace(",", "").replace("·", "."))
    except InvalidOperation:  # pragma: no cover - the pattern only matches digits
        return None


def exclusion_for(text: str, start: int, end: int) -> Exclusion | None:
    """The first rule of :data:`EXCLUSIONS` that says why a number is no figure.

    :param text: the text the number stands in
    :param start: where the number starts
    :param end: where it ends
    :returns: the rule, or None for a figure to record
    """
    before, after, figure = text[max(0, start - 60):start], text[end:end + 40], text[start:end]
    for rule in EXCLUSIONS:
        if rule.name == "year" and not _YEAR.fullmatch(figure):
            continue
        if rule.matches(before, after):
            return rule
    return None


def _regions() -> dict[str, Any]:
    path = resource_path(*REGIONS)
    try:
        regions = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigurationError(f"cannot read {path}: {error}") from error
    if not isinstance(regions, dict):
        raise ConfigurationError(f"{path}: a mapping of review ids to start and end is needed")
    return regions


def _result_part(raw: str, region: Mapping[str, Any] | None, review: str) -> str:
    """The result-bearing part of a review's text (all of it when its region is not given)."""
    if region is None:
        return raw
    start = raw.find(str(region["start"]))
    if start < 0:
        raise ConfigurationError(f"{'/'.join(REGIONS)}: the start of {review} ({region['start']!r}) is not in its text")
    ends = [match.start() for heading in region["end"]
            if (match := re.compile(rf"^{re.escape(str(heading))}\b", re.MULTILINE).search(raw, start))]
    return raw[start:min(ends, default=len(raw))]


def background_spans(texts: Mapping[str, str]) -> dict[str, list[tuple[int, int, str]]]:
    """Where the background passages stand in each review's text, with the reason of their kind.

    :param texts: each review's result-bearing text, whitespace folded
    :returns: per review, (start, end, reason) of each passage
    :raises ConfigurationError: if the file cannot be read, a kind is unknown or a quote is not in the text
    """
    path = resource_path(*BACKGROUND)
    try:
        listed = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigurationError(f"cannot read {path}: {error}") from error
    spans: dict[str, list[tuple[int, int, str]]] = {review: [] for review in texts}
    for review, passages in listed.items():
        for passage in passages:
            kind, quote = passage.get("kind"), normalize_whitespace(str(passage.get("quote", "")))
            if kind not in BACKGROUND_KINDS:
                raise ConfigurationError(f"{path}: unknown kind {kind!r} (one of {', '.join(BACKGROUND_KINDS)})")
            found = list(_spans(texts.get(review, ""), quote)) if quote else []
            if not found:
                raise ConfigurationError(f"{path}: {quote!r} is not in the result-bearing text of {review}")
            spans[review] += [(start, end, f"{kind}: {BACKGROUND_KINDS[kind]}") for start, end in found]
    return spans


def read_backlog(path: Path | None = None) -> dict[tuple[str, str, str], str]:
    """Read the known unexplained figures.

    :param path: the backlog file (default: the shipped ``data/coverage/unexplained.tsv``)
    :returns: (review, figure, context) to what is known of it; empty if the file is missing
    :raises ConfigurationError: if the file lacks a column
    """
    path = path or resource_path(*BACKLOG)
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\"))
    if rows and not set(_BACKLOG_COLUMNS) <= set(rows[0]):
        raise ConfigurationError(f"{path}: the columns must be {', '.join(_BACKLOG_COLUMNS)}")
    return {(row["review"], row["figure"], row["context"]): row["reason"] for row in rows}


def write_backlog(figures: Iterable[Figure], path: Path) -> None:
    """Write unexplained figures as the backlog (one row each, with what is known of it).

    :param figures: the unexplained figures
    :param path: the file to write
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\", lineterminator="\n")
        writer.writerow(_BACKLOG_COLUMNS)
        for figure in figures:
            writer.writerow([*figure.key, figure.reason])


def _diagnosis(quoting: Sequence[str]) -> str:
    """What is known of an unexplained figure from the records that quote it."""
    findings = [who.removeprefix("findings ") for who in quoting if who.startswith("findings ")]
    if findings:
        return (f"printed in the statement of finding {', '.join(findings[:3])}, whose values do not hold it "
                "(add it to the finding's values)")
    if quoting:
        return f"quoted by {', '.join(quoting[:3])}, which hold(s) no such value"
    return "in no quote: background or not yet curated"


def figure_coverage(records: RecordSet, sources: Path, *, backlog: Path | None = None) -> CoverageReport:
    """Find every figure the reviews print and whether a structured value holds it.

    :param records: checked records
    :param sources: the directory with the reviews' text files
    :param backlog: the known unexplained figures (default: the shipped backlog)
    :returns: the figures with their status, the new unexplained ones and the stale backlog rows
    :raises ConfigurationError: if a review's file or the backlog cannot be read
    """
    known = read_backlog(backlog)
    regions = _regions()
    texts = {review: normalize_whitespace(_result_part(raw, regions.get(review), review))
             for review, raw in review_texts(records, sources).items()}
    background = background_spans(texts)
    # per review: the spans of quotes with the numbers their record holds, and the quotes of other records
    holding: dict[str, list[tuple[int, int, set[Decimal]]]] = {review: [] for review in texts}
    quoted_by: dict[str, list[tuple[int, int, str]]] = {review: [] for review in texts}
    for record, review, quote in iter_quotes(records):
        if review not in texts:
            continue
        held = _held_numbers(record.data, HOLDING_FIELDS.get(record.kind, ()))
        for value in record.data.get("values", ()) if record.kind == "findings" else ():
            held |= _held_numbers(value, VALUE_HOLDING_FIELDS)
        for start, end in _spans(texts[review], normalize_whitespace(quote)):
            quoted_by[review].append((start, end, f"{record.kind} {record.id}"))
            if held:
                holding[review].append((start, end, held))
    figures: list[Figure] = []
    for review, text in texts.items():
        for match in _FIGURE.finditer(text):
            start, end, printed = match.start(), match.end(), match.group()
            context = text[max(0, start - _CONTEXT):end + _CONTEXT]
            value = _value(printed)
            # a digit of a name or a reference number is no figure even where a value holds the same
            # number ("PD-L1 ≥ 1%" holds 1, not the 1 of PD-L1); a year, a dose or an age may be one
            rule = exclusion_for(text, start, end)
            if rule is not None and rule.name in _NOT_A_FIGURE:
                figures.append(Figure(review, start, printed, context, "excluded", rule.reason))
                continue
            if any(low <= start and end <= high and value in held for low, high, held in holding[review]):
                figures.append(Figure(review, start, printed, context, "held"))
                continue
            if rule is not None:
                figures.append(Figure(review, start, printed, context, "excluded", rule.reason))
                continue
            if (passage := next((why for low, high, why in background[review] if low <= start and end <= high), None)):
                figures.append(Figure(review, start, printed, context, "excluded", passage))
                continue
            quoting = sorted({who for low, high, who in quoted_by[review] if low <= start and end <= high})
            reason = known.get((review, printed, context)) or _diagnosis(quoting)
            figures.append(Figure(review, start, printed, context, "unexplained", reason))
    unexplained = [figure for figure in figures if figure.status == "unexplained"]
    new = tuple(figure for figure in unexplained if figure.key not in known)
    current = {figure.key for figure in unexplained}
    stale = tuple(key for key in known if key not in current)
    return CoverageReport(tuple(figures), new, stale)


def check_coverage(sources: Path, *, records_dir: Path | None = None, backlog: Path | None = None) -> CoverageReport:
    """Run the coverage check for numbers on the curated records and the reviews' text.

    :param sources: the directory with the reviews' text files (the repository's ``sources/``)
    :param records_dir: the curated records (default: the shipped ones)
    :param backlog: the known unexplained figures (default: the shipped backlog)
    :returns: the report (:meth:`CoverageReport.problems` lists the new unexplained figures)
    :raises ConfigurationError: if a review's text, the regions or the backlog cannot be read
    :raises DataError: if the records fail their checks
    """
    check_sources(sources)
    return figure_coverage(load_records(records_dir), sources, backlog=backlog)
