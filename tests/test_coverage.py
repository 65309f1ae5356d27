"""The coverage check for numbers (issue 20, item 10): every figure the reviews print is held
by a structured value, excluded with a reason, or listed in the backlog of known ones."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kg.pipeline.coverage import EXCLUSIONS, CoverageReport, figure_coverage, read_backlog, write_backlog
from kg.pipeline.records import load_records

CLI = [sys.executable, "-m", "kg.cli"]


@pytest.fixture(scope="module")
def report(sources_dir: Path) -> CoverageReport:
    return figure_coverage(load_records(), sources_dir)


def test_no_unexplained_figure_beyond_the_backlog(report: CoverageReport) -> None:
    # the count of unexplained figures may only fall: a new one fails, a resolved one must leave the backlog
    assert not report.new, "\n".join(str(problem) for problem in report.problems())
    assert not report.stale, f"remove these rows from data/coverage/unexplained.tsv: {report.stale}"
    # 106 before the findings' figures became values (issue 20, item 3); the 3 left are comparators' values (item 4)
    assert len(report.of_status("unexplained")) == len(read_backlog()) <= 3


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
    ("New York esophageal squamous cell carcinoma «1» gene; ORR", "gene-name"),
    ("an average age of presentation between «60» and 70 years", "age-range"),
    ("an average age of presentation between 60 and «70» years, and typically", "age-range"),
    ("758 STS samples from «8» public databases", "source-count"),
    ("predicting ICI response and «6»-month non-progression, potentially", "endpoint-time-point"),
    ("a «5»-year survival rate of between 60 and 70%", None),
]


def test_a_trial_name_with_a_version_is_no_figure() -> None:
    from kg.pipeline.coverage import exclusion_for

    text = "The HEROS 2.0 phase I trial allowed multiple HER2 CAR T-cell infusions"
    start = text.index("2.0")
    rule = exclusion_for(text, start, start + 3)
    assert rule is not None and rule.name == "trial-name"


def test_a_value_holding_1_does_not_hold_the_1_of_pd_l1(report: CoverageReport) -> None:
    # regression: the 1 of "PD-L1" in a quote whose value holds 1 ("PD-L1 ≥ 1%") was counted as held
    held = [figure for figure in report.of_status("held") if figure.text == "1"]
    assert not any(figure.context[figure.context.index("1") - 5:].startswith("PD-L1") for figure in held
                   if "PD-L" in figure.context[:45])
    excluded = {(figure.review, figure.offset) for figure in report.of_status("excluded")}
    text = next(figure for figure in report.figures if figure.review == "wu2025" and "STS with PD-L1 $" in figure.context
                and figure.text == "1" and figure.context.index("PD-L1 $") < 40)
    assert (text.review, text.offset) in excluded


def test_background_passages_name_a_known_kind_and_stand_in_the_text(sources_dir: Path) -> None:
    import yaml

    from kg.pipeline.coverage import BACKGROUND, BACKGROUND_KINDS
    from kg.resources import resource_path

    listed = yaml.safe_load(resource_path(*BACKGROUND).read_text(encoding="utf-8"))
    assert all(passage["kind"] in BACKGROUND_KINDS for passages in listed.values() for passage in passages)
    report = figure_coverage(load_records(), sources_dir)
    reasons = {figure.reason for figure in report.of_status("excluded")}
    assert {f"{kind}: {why}" for kind, why in BACKGROUND_KINDS.items()} <= reasons


def test_an_unknown_background_passage_is_refused() -> None:
    from kg.errors import ConfigurationError
    from kg.pipeline.coverage import background_spans

    with pytest.raises(ConfigurationError, match="is not in the result-bearing text"):
        background_spans({"huang2025": "nothing of the listed passages", "wu2025": ""})


@pytest.mark.parametrize(("text", "rule"), CASES)
def test_exclusion_rules(text: str, rule: str | None) -> None:
    from kg.pipeline.coverage import exclusion_for

    start = text.index("«")
    plain = text.replace("«", "").replace("»", "")
    end = text.index("»") - 1
    found = exclusion_for(plain, start, end)
    assert (found.name if found else None) == rule


def test_the_backlog_round_trips_backslashes(report: CoverageReport, tmp_path: Path) -> None:
    # regression: contexts with TeX ("$\geq 5\%$") were escaped on writing and not unescaped on reading
    from kg.pipeline.coverage import Figure

    tex = Figure("wu2025", 0, "5", "a lenient $\\geq 5\\%$ of positive tumor cells", "unexplained", "a reason")
    unexplained = [*report.of_status("unexplained"), tex]
    write_backlog(unexplained, tmp_path / "backlog.tsv")
    assert set(read_backlog(tmp_path / "backlog.tsv")) == {figure.key for figure in unexplained}


def test_an_empty_backlog_makes_every_unexplained_figure_new(sources_dir: Path, tmp_path: Path) -> None:
    """(The shipped records leave no figure unexplained, so one is invented in a copy of a review.)"""
    changed = tmp_path / "sources"
    shutil.copytree(sources_dir, changed)
    review = changed / "wu2025-ups-mfs-immunotherapy-review.txt"
    review.write_text(review.read_text(encoding="utf-8").replace(
        "Opinion Statement", "Opinion Statement In an invented trial 77% responded.", 1), encoding="utf-8")
    report = figure_coverage(load_records(), changed, backlog=tmp_path / "none.tsv")
    assert list(report.new) == report.of_status("unexplained")
    assert [figure.text for figure in report.new] == ["77"]


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
