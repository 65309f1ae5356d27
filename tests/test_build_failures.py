"""Bad curated data fails the build with file, record and rule, and writes nothing.

Each file in fixtures/invalid-records is one case: it is added to a copy of the shipped
records, and its header names the rule it breaks and the record the error must name.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import main

CASES = sorted((Path(__file__).parent / "fixtures" / "invalid-records").glob("*.yaml"))


def _expectation(path: Path, key: str) -> str:
    match = re.search(rf"^# expect-{key}: (.+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{path.name} needs a '# expect-{key}:' header line"
    return match.group(1).strip()


@pytest.fixture(scope="module")
def previous_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output directory holding a previous build's files, which a failed build must keep."""
    output = tmp_path_factory.mktemp("previous") / "dist"
    output.mkdir()
    (output / "sarcoma-kg.ttl").write_text("# the previous build\n", encoding="utf-8")
    return output


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_invalid_records_fail_the_build(case: Path, records_copy: Path, previous_output: Path) -> None:
    target = records_copy / "zz-invalid" / case.name
    target.parent.mkdir()
    shutil.copy(case, target)
    before = {path.name: path.read_bytes() for path in previous_output.iterdir()}

    result = CliRunner().invoke(main, ["build", "--records", str(records_copy), "--output-dir", str(previous_output)])

    assert result.exit_code == 1, f"expected exit 1 (data fails checks), got {result.exit_code}: {result.output}"
    message = result.output
    assert f"zz-invalid/{case.name}" in message or "queries/quality" in message or case.name in message, message
    assert _expectation(case, "record") in message, message
    assert _expectation(case, "rule") in message, message
    after = {path.name: path.read_bytes() for path in previous_output.iterdir()}
    assert after == before, "a failed build must leave the previous output untouched"
    leftovers = [p.name for p in previous_output.parent.iterdir() if p.name.startswith(".dist")]
    assert leftovers == [], f"a failed build left partial output behind: {leftovers}"


def test_unparsable_yaml_is_a_load_error(records_copy: Path, tmp_path: Path) -> None:
    (records_copy / "broken.yaml").write_text("therapies:\n  - id: [unclosed\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--records", str(records_copy), "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "broken.yaml" in result.output and "not valid YAML" in result.output
    assert not (tmp_path / "out").exists()


def test_duplicate_yaml_key_is_refused(records_copy: Path, tmp_path: Path) -> None:
    (records_copy / "dup.yaml").write_text(
        "subtypes:\n  - id: dup-key\n    label: one\n    label: two\n    parent: sarcoma\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["build", "--records", str(records_copy), "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "duplicate key 'label'" in result.output
