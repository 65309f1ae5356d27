"""Bad curated data fails the build with file, record and rule, and writes nothing.

Each file in fixtures/invalid-records is one case: it is added to a copy of the shipped
records, and its header names the rule it breaks and the record the error must name.
A case the records stage catches runs the whole ``sarcoma-kg build`` (which stops there);
a case that only SHACL or a quality query catches runs that stage alone on the converted
records (reasoning, 3 s a case, is not what it tests), and one of them the whole build on
the smallest records it needs.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rdflib import Graph

from kg.cli import main
from kg.errors import DataError
from kg.pipeline.convert import records_to_graph
from kg.pipeline.numbers import numbers_in
from kg.pipeline.quality import quality_problems
from kg.pipeline.records import default_records_dir, load_records
from kg.pipeline.rules import apply_rules
from kg.pipeline.shacl import shacl_problems

CASES = sorted((Path(__file__).parent / "fixtures" / "invalid-records").glob("*.yaml"))


def _expectation(path: Path, key: str) -> str:
    match = re.search(rf"^# expect-{key}: (.+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{path.name} needs a '# expect-{key}:' header line"
    return match.group(1).strip()


def _stage(case: Path) -> str:
    """The build stage whose rule the case breaks: a quality query's, SHACL's, or the records'."""
    rule = _expectation(case, "rule")
    return "quality" if rule.endswith("-violation") else "shacl" if rule.startswith("shacl:") else "records"


RECORDS_CASES = [case for case in CASES if _stage(case) == "records"]
LATE_CASES = [case for case in CASES if _stage(case) != "records"]


def _add_case(case: Path, records: Path) -> None:
    target = records / "zz-invalid" / case.name
    target.parent.mkdir()
    shutil.copy(case, target)


@pytest.fixture(scope="module")
def previous_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output directory holding a previous build's files, which a failed build must keep."""
    output = tmp_path_factory.mktemp("previous") / "dist"
    output.mkdir()
    (output / "sarcoma-kg.ttl").write_text("# the previous build\n", encoding="utf-8")
    (output / "build-report.json").write_text("{}\n", encoding="utf-8")
    return output


@pytest.mark.parametrize("case", RECORDS_CASES, ids=[case.stem for case in RECORDS_CASES])
def test_invalid_records_fail_the_build(case: Path, records_copy: Path, previous_output: Path) -> None:
    _fails_the_build(case, records_copy, previous_output)


def test_a_build_that_fails_after_reasoning_leaves_the_previous_output(tmp_path: Path, previous_output: Path) -> None:
    """The whole CLI build failing in SHACL, while the Turtle is being written in the background;
    on the two review records and the case alone (its subtypes name only each other), as the
    shipped records would only add a reasoning of 3 s."""
    records = tmp_path / "records"
    (records / "entities").mkdir(parents=True)
    shutil.copy(default_records_dir() / "entities" / "reviews.yaml", records / "entities")
    case = Path(__file__).parent / "fixtures" / "invalid-records" / "subtype-cycle.yaml"
    assert _stage(case) == "shacl"
    _fails_the_build(case, records, previous_output)


def _fails_the_build(case: Path, records: Path, previous_output: Path) -> None:
    _add_case(case, records)
    before = {path.name: path.read_bytes() for path in previous_output.iterdir()}

    result = CliRunner().invoke(main, ["build", "--records", str(records), "--output-dir", str(previous_output)])

    assert result.exit_code == 1, f"expected exit 1 (data fails checks), got {result.exit_code}: {result.output}"
    message = result.output
    assert f"zz-invalid/{case.name}" in message, f"the error must name the file the record is in: {message}"
    assert _expectation(case, "record") in message, message
    assert _expectation(case, "rule") in message, message
    after = {path.name: path.read_bytes() for path in previous_output.iterdir()}
    assert after == before, "a failed build must leave the previous output untouched"
    leftovers = [p.name for p in previous_output.parent.iterdir() if p.name.startswith(".dist")]
    assert leftovers == [], f"a failed build left partial output behind: {leftovers}"


@pytest.mark.parametrize("case", LATE_CASES, ids=[case.stem for case in LATE_CASES])
def test_invalid_records_fail_their_stage(case: Path, records_copy: Path, built) -> None:
    _add_case(case, records_copy)
    records = load_records(records_copy)  # the records stage passes them
    graph = records_to_graph(records)
    # The session build's graph brings the ontology and what the reasoner inferred for the shipped
    # records (units, for one, are typed by the ontology's ranges), so that the stage under test
    # sees what it sees in a build; the case's records assert what they need.
    graph += built.graph
    derived = apply_rules(graph)
    graph += derived.added

    if _stage(case) == "shacl":
        problems = shacl_problems(graph, records=records)
    else:
        problems = quality_problems(derived.store, records=records)

    assert problems, f"{case.name}: the {_stage(case)} stage found nothing"
    assert all(f"zz-invalid/{case.name}" in problem.file for problem in problems), (
        f"only the case's records may fail: {[str(problem) for problem in problems]}")
    assert any(problem.rule == _expectation(case, "rule") and _expectation(case, "record") in problem.record
               for problem in problems), [str(problem) for problem in problems]


def test_unparsable_yaml_is_a_load_error(records_copy: Path, tmp_path: Path) -> None:
    (records_copy / "broken.yaml").write_text("therapies:\n  - id: [unclosed\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--records", str(records_copy), "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "broken.yaml" in result.output and "not valid YAML" in result.output
    # the position names the file (regression: PyYAML said 'in "<unicode string>", line 2')
    assert 'in "broken.yaml", line 2' in result.output and "<unicode string>" not in result.output, result.output
    assert not (tmp_path / "out").exists()


def test_duplicate_yaml_key_is_refused(records_copy: Path, tmp_path: Path) -> None:
    (records_copy / "dup.yaml").write_text(
        "subtypes:\n  - id: dup-key\n    label: one\n    label: two\n    parent: sarcoma\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["build", "--records", str(records_copy), "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "duplicate key 'label'" in result.output


def _build(records: Path, output: Path) -> Result:
    return CliRunner().invoke(main, ["build", "--records", str(records), "--output-dir", str(output)])


@pytest.mark.parametrize(("encoding", "text"), [("latin-1", "subtypes:\n  - id: caf\xe9\n"),
                                                 ("utf-16", "subtypes:\n  - id: x\n"),
                                                 ("utf-16-le", "subtypes:\n  - id: x\n")])
def test_a_record_file_not_in_utf8_is_a_load_error(records_copy: Path, tmp_path: Path, encoding: str,
                                                    text: str) -> None:
    (records_copy / "encoded.yaml").write_bytes(text.encode(encoding))
    result = _build(records_copy, tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "encoded.yaml: not UTF-8" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_an_unhashable_yaml_key_is_a_load_error(records_copy: Path, tmp_path: Path) -> None:
    (records_copy / "key.yaml").write_text("- ? [a, b]\n  : x\n", encoding="utf-8")
    result = _build(records_copy, tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "key.yaml: not valid YAML" in result.output and "found unhashable key" in result.output


def test_a_schema_error_hides_no_other_problem(records_copy: Path) -> None:
    """One invalid record neither hides its file's other problems nor makes references to the file dangle."""
    (records_copy / "zz-mixed.yaml").write_text(textwrap.dedent("""\
        subtypes:
          - id: zz-typo
            label: zz typo subtype
            parentt: sarcoma
          - id: zz-good
            label: zz good subtype
            parent: sarcoma
          - id: zz-dangling
            label: zz dangling subtype
            parent: zz-nowhere
        """), encoding="utf-8")
    (records_copy / "zz-other.yaml").write_text(textwrap.dedent("""\
        subtypes:
          - id: zz-child-of-good
            label: zz child of good
            parent: zz-good
          - id: zz-child-of-typo
            label: zz child of typo
            parent: zz-typo
        """), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_records(records_copy)
    found = {(problem.file, problem.record, problem.rule) for problem in caught.value.problems}
    assert found == {("zz-mixed.yaml", "zz-typo", "additionalProperties"),
                     ("zz-mixed.yaml", "zz-dangling", "dangling-reference")}, caught.value


def test_numbers_with_thousands_separators_and_in_words_are_written(records_copy: Path) -> None:
    (records_copy / "zz-numbers.yaml").write_text(textwrap.dedent("""\
        measurements:
          - id: zz-thousands
            study: sarc028
            population: soft-tissue-sarcoma
            population_text: STS
            endpoint: EnrolledCount
            value: "1,086 patients"
            numeric: 1086
            unit: count
            evidence: {review: huang2025, location: Table 1, reference: ref-tawbi-2017, reference_number: 64,
                       quote: "18% in STS 5% in BS"}
          - id: zz-words
            study: sarc028
            population: soft-tissue-sarcoma
            population_text: STS
            endpoint: ResponderCount
            value: "twenty-one of thirty had a PR"
            numeric: 21
            unit: count
            numerator: 21
            denominator: 30
            sample_size: {size: 30, kind: EvaluablePatients}
            evidence: {review: huang2025, location: Table 1, reference: ref-tawbi-2017, reference_number: 64,
                       quote: "18% in STS 5% in BS"}
        """), encoding="utf-8")
    records = load_records(records_copy)
    assert {"zz-thousands", "zz-words"} <= set(records.by_id)


@pytest.mark.parametrize(("text", "number"), [("1,086 patients", "1086"), ("102,292 samples", "102292"),
                                              ("7,7%", "7.7"), ("65·6%", "65.6"), ("twenty-one", "21"),
                                              ("Thirty patients", "30"), ("one hundred and five", "105")])
def test_numbers_in(text: str, number: str) -> None:
    assert Decimal(number) in numbers_in(text)


@pytest.mark.parametrize(("text", "number"), [("65-6%", "65.6"), ("one and two", "3"), ("1,0865", "10865")])
def test_numbers_not_in(text: str, number: str) -> None:
    assert Decimal(number) not in numbers_in(text)


def test_build_refuses_a_directory_that_holds_no_earlier_output(tmp_path: Path) -> None:
    """'build --output-dir data' once deleted the curated records: now nothing is deleted."""
    target = tmp_path / "data"
    (target / "records").mkdir(parents=True)
    (target / "records" / "curated.yaml").write_text("therapies: []\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--output-dir", str(target)])
    assert result.exit_code == 2, result.output
    assert f"refusing to replace {target}" in result.output and "records:" not in result.output
    assert (target / "records" / "curated.yaml").read_text(encoding="utf-8") == "therapies: []\n"
    assert [path.name for path in tmp_path.iterdir()] == ["data"]


@pytest.mark.parametrize("where", ["file-parent", "proc"])
def test_build_to_an_unwritable_place_fails_before_building(tmp_path: Path, where: str) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    target = tmp_path / "a-file" / "dist" if where == "file-parent" else Path("/proc/sarcoma-kg-dist")
    result = CliRunner().invoke(main, ["build", "--output-dir", str(target)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: cannot write {target}"), result.output
    assert "records:" not in result.output  # refused before the build started


def test_a_record_file_named_yml_is_not_skipped_silently(records_copy: Path) -> None:
    """Regression: records in a *.yml file were never read, and the build passed without them."""
    source = next(records_copy.rglob("*.yaml"))
    source.rename(source.with_suffix(".yml"))
    result = CliRunner().invoke(main, ["validate", "--records", str(records_copy)])
    assert result.exit_code == 1, result.output
    assert "record-file-name" in result.output and source.with_suffix(".yml").name in result.output


@pytest.mark.parametrize(("value", "numeric", "is_bound"), [
    ("over two years", 2, True), ("exceeded 80%", 80, True), (">50% of cells", 50, True), ("up to 24 months", 24, True),
    ("over 2.5 years of disease control", 2.5, True),
    ("grade ≥3 treatment-related adverse events in 20%", 20, False), ("ORR 18% (p<0.05)", 18, False),
    ("5% of tumors harboring > 20 mutations/Mb", 5, False), ("ORR 25% among PD-L1 over-expressing tumours", 25, False),
    ("follow-up to 24 months", 24, False), ("ORR 12% in patients under 40", 12, False),
    ("over twenty one months", 21, True),
    # regression (review): a figure after the bound's own number was taken for the bound
    ("more than half (52%)", 52, False), ("ORR > 30%: 35%", 35, False), ("less than 1% (0.5%)", 0.5, False),
])
def test_a_bound_is_told_from_a_figure_beside_a_bound_word(value: str, numeric: float, is_bound: bool) -> None:
    """The bound rule looks at the number right after the bound word (regression, found in
    review: it flagged any value holding such a word, as "ORR 18% (p<0.05)")."""
    from kg.pipeline.records import Record, bound_problems

    record = Record(kind="measurements", data={"id": "m", "value": value, "numeric": numeric}, file="f.yaml", index=0)
    assert bool(list(bound_problems(record))) is is_bound


@pytest.mark.parametrize("stage", ["shacl", "quality"])
def test_the_build_stops_on_what_a_late_stage_finds(stage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The build runs SHACL and the quality queries and stops on a problem either finds (in
    place of two tests that checked the built graph, which the build had already checked).
    Reasoning is skipped (HermiT takes seconds and is tested on its own)."""
    import kg.pipeline.build
    import kg.pipeline.quality
    import kg.pipeline.shacl
    from kg.errors import DataError, Problem
    from kg.pipeline.reasoning import ReasoningResult

    problem = Problem("graph", "skgid:x", "shacl:Violation" if stage == "shacl" else "x-violation", "planted")
    monkeypatch.setattr(kg.pipeline.build, "reason", lambda graph: ReasoningResult(added=Graph(), inferred=0))
    monkeypatch.setattr(kg.pipeline.shacl, "shacl_problems", lambda *args, **kwargs: [problem] if stage == "shacl" else [])
    monkeypatch.setattr(kg.pipeline.quality, "quality_problems", lambda *args, **kwargs: [problem])
    with pytest.raises(DataError) as raised:
        kg.pipeline.build.build_graph(serialize=False)
    assert raised.value.stage == stage and raised.value.problems == [problem]
