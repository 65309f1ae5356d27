"""The coverage check for numbers (issue 20, item 10): every figure the reviews print is held
by a structured value, excluded with a reason, or listed in the backlog of known ones."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kg.coverage import EXCLUSIONS, CoverageReport, figure_coverage, read_backlog, write_backlog
from kg.records import load_records

CLI = [sys.executable, "-m", "kg.cli"]


@pytest.fixture(scope="module")
def report(sources_dir: Path) -> CoverageReport:
    return figure_coverage(load_records(), sources_dir)


def test_no_unexplained_figure_beyond_the_backlog(report: CoverageReport) -> None:
    # the count of unexplained figures may only fall: a new one fails, a resolved one must leave the backlog
    assert not report.new, "\n".join(str(problem) for problem in report.problems())
    assert not report.stale, f"remove these rows from data/coverage/unexplained.tsv: {report.stale}"
    assert len(report.of_status("unexplained")) == len(read_backlog()) <= 106


def test_every_backlog_row_says_what_is_known(report: CoverageReport) -> None:
    assert all(reason.strip() for reason in read_backlog().values())


def test_figures_of_the_records_are_held(report: CoverageReport) -> None:
    held = {(figure.review, figure.text, figure.context[30:60]) for figure in report.of_status("held")}
    # "23% (9/40)": the value, numerator and denominator of m-wu-sarc028-21
    assert any(review == "wu2025" and text == "23" and "(9/40)" in context for review, text, context in held)
    assert len(report.of_status("held")) >= 500


def test_every_exclusion_has_a_reason() -> None:
    assert len({rule.name for rule in EXCLUSIONS}) == len(EXCLUSIONS)
    assert all(rule.reason and (rule.before or rule.after) for rule in EXCLUSIONS)


# (text with the figure in « », the rule that excludes it or None for a figure to record)
CASES = [
    ("PD-L1 positivity in 16%–35.6% of tumors [«45», 48, 49].", "citation"),
    ("in 3.8% of STS and 0.6% of bone sarcomas («37»).", "citation"),
    ("TMB-high in «3.8»% of STS", None),
    ("expression of PD-L«1» on tumor cells", "name"),
    ("CD«8»+ T cells", "name"),
    ("Jones et al. [52] «2020» Retrospective", "year"),
    ("«2020» patients were enrolled", None),
    ("pembrolizumab «200» mg every three weeks", "dose"),
    ("radiotherapy of «50» Gy", "dose"),
    ("as shown in Table «2», responses", "label"),
    ("a phase «2» trial", "label"),
    ("patients aged «18» or older", "age"),
    ("indoleamine «2»,3-dioxygenase", "locant"),
    ("doses of $1-15 \\times «10»^9$ cells", "power"),
    ("Lymphocyte activation gene «3»; MSI", "name-word"),
    ("an ORR of «40»% in UPS", None),
    ("a median PFS of «30» weeks", None),
    ("the «24»-month OS rate", None),
]


@pytest.mark.parametrize(("text", "rule"), CASES)
def test_exclusion_rules(text: str, rule: str | None) -> None:
    from kg.coverage import exclusion_for

    start = text.index("«")
    plain = text.replace("«", "").replace("»", "")
    end = text.index("»") - 1
    found = exclusion_for(plain, start, end)
    assert (found.name if found else None) == rule


def test_the_backlog_round_trips_backslashes(report: CoverageReport, tmp_path: Path) -> None:
    # regression: contexts with TeX ("$\geq 5\%$") were escaped on writing and not unescaped on reading
    unexplained = report.of_status("unexplained")
    write_backlog(unexplained, tmp_path / "backlog.tsv")
    assert set(read_backlog(tmp_path / "backlog.tsv")) == {figure.key for figure in unexplained}
    assert any("\\" in figure.context for figure in unexplained)


def test_an_empty_backlog_makes_every_unexplained_figure_new(sources_dir: Path, tmp_path: Path) -> None:
    report = figure_coverage(load_records(), sources_dir, backlog=tmp_path / "none.tsv")
    assert len(report.new) == len(report.of_status("unexplained")) > 0


def test_cli_exit_codes(sources_dir: Path, tmp_path: Path) -> None:
    shipped = subprocess.run([*CLI, "coverage", "--sources", str(sources_dir)], capture_output=True, text=True,
                             check=False, timeout=300)
    assert shipped.returncode == 0, shipped.stderr
    assert "unexplained: " in shipped.stdout and "new: 0" in shipped.stdout
    # a figure printed where no record holds it and the backlog does not list it: exit 1, named
    changed = tmp_path / "sources"
    shutil.copytree(sources_dir, changed)
    review = changed / "wu2025-ups-mfs-immunotherapy-review.txt"
    review.write_text(review.read_text(encoding="utf-8").replace(
        "Opinion Statement", "Opinion Statement In an invented trial 77% responded.", 1), encoding="utf-8")
    failed = subprocess.run([*CLI, "coverage", "--sources", str(changed)], capture_output=True, text=True,
                            check=False, timeout=300)
    assert failed.returncode == 1
    assert "'77'" in failed.stderr and "new: 1" in failed.stdout
    missing = subprocess.run([*CLI, "coverage", "--sources", str(tmp_path / "nowhere")], capture_output=True,
                             text=True, check=False, timeout=300)
    assert missing.returncode == 2 and "no directory of review texts" in missing.stderr
