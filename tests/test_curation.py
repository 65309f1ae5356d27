"""Every curated record, checked one by one against the reviews.

The quote of every measurement, finding, study and therapy must be verbatim in its
review; every reference-list citation must be verbatim and sit at its number. A failure
names the record and what to fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO, SOURCES, shared_file

from kg.identifiers import REFERENCE_FILES, verified_ids
from kg.pipeline.quotes import iter_quotes, normalize_whitespace, reference_entries, uncovered_sentences
from kg.pipeline.quotes import review_texts as read_review_texts
from kg.pipeline.records import XREF_FIELDS, Record, RecordSet, load_records

RECORDS: RecordSet = load_records()
QUOTES = list(iter_quotes(RECORDS))
CITATIONS = [
    (record.id, entry)
    for record in RECORDS.of_kind("publications")
    for entry in record.data["cited_in"]
]


@pytest.fixture(scope="module")
def review_texts(sources_dir: Path) -> dict[str, str]:
    return {review: normalize_whitespace(text) for review, text in read_review_texts(RECORDS, sources_dir).items()}


@pytest.fixture(scope="module")
def reference_lists(sources_dir: Path) -> dict[str, list[str]]:
    """Each review's reference list in order (the last entries of its lists)."""
    texts = read_review_texts(RECORDS, sources_dir)
    return {
        review.id: [normalize_whitespace(entry) for entry in reference_entries(texts[review.id])[-review.data["reference_count"]:]]
        for review in RECORDS.of_kind("reviews")
    }


@pytest.mark.parametrize(
    ("record", "review", "quote"), QUOTES, ids=[f"{record.id}:{index}" for index, (record, _, _) in enumerate(QUOTES)]
)
def test_quote_is_verbatim(record, review: str, quote: str, review_texts: dict[str, str]) -> None:
    assert normalize_whitespace(quote) in review_texts[review], (
        f"{record.file}: record '{record.id}': the quote is not verbatim in {review}; copy it from the "
        f"review's text (white space may differ, nothing else): {quote!r}"
    )


@pytest.mark.parametrize(("publication", "entry"), CITATIONS, ids=[f"{p}:{e['review']}{e['number']}" for p, e in CITATIONS])
def test_citation_is_verbatim_at_its_number(publication: str, entry: dict, reference_lists: dict[str, list[str]]) -> None:
    citation = normalize_whitespace(entry["citation"])
    number = entry["number"]
    assert reference_lists[entry["review"]][number - 1] == citation, (
        f"{publication}: {entry['review']} reference {number} is not this citation; re-run scripts/extract_references.py"
    )


def test_every_review_has_its_full_reference_list() -> None:
    for review in RECORDS.of_kind("reviews"):
        numbers = sorted(e["number"] for _, e in CITATIONS if e["review"] == review.id)
        assert numbers == list(range(1, review.data["reference_count"] + 1)), f"{review.id}: reference numbers missing"


def test_every_measurement_and_finding_has_a_quote() -> None:
    facts = [r for r in RECORDS.records if r.kind in ("measurements", "findings")]
    assert facts, "the curated data has no measurements or findings"
    assert all(r.data["evidence"]["quote"].strip() for r in facts)


def test_uncovered_sentences_are_those_no_quote_covers(sources_dir: Path, review_texts: dict[str, str]) -> None:
    passages = uncovered_sentences(RECORDS, sources_dir)
    texts = {passage.text for passage in passages}
    assert any("Department of Science and Technology of Liaoning Province" in text for text in texts)
    assert "The utility of TMB as a prognostic tool in UPS is debated." not in texts  # quoted by f-wu-117
    assert not any("10.1016/s1470-2045(17)30099-2" in text for text in texts), "the reference list is not listed"
    for passage in passages:
        assert review_texts[passage.review][passage.offset:].startswith(passage.text)


UNCITED_FINDINGS = [r for r in RECORDS.of_kind("findings") if "study" not in r.data and not r.data["evidence"].get("reference")]


@pytest.mark.parametrize("record", UNCITED_FINDINGS, ids=[r.id for r in UNCITED_FINDINGS])
def test_an_uncited_finding_has_no_study_design(record: Record) -> None:
    # regression: uncited statements of the reviews were given RetrospectiveCohort (level D)
    assert record.data.get("design_category") == "DesignNotReported", (
        f"{record.file}: {record.id} cites no study, so the review gives no design for it: "
        "set design_category: DesignNotReported"
    )


@pytest.mark.parametrize("curie", sorted({c for r in RECORDS.records for field in XREF_FIELDS
                                          for c in r.data.get(field, [])}))
def test_external_id_is_verified(curie: str) -> None:
    assert curie in verified_ids(), (
        f"{curie} is not a verified row of data/reference/external-ids.csv: remove it rather than guess"
    )


@pytest.mark.parametrize("name", REFERENCE_FILES)
def test_reference_table_matches_shared_copy(name: str) -> None:
    shared = shared_file("reference", name)
    packaged = REPO / "data" / "reference" / name
    assert packaged.read_bytes() == shared.read_bytes(), f"data/reference/{name} is stale: run `sarcoma-kg sync-reference`"


@pytest.mark.parametrize("name", sorted(path.name for path in SOURCES.glob("*.txt")))
def test_shipped_review_text_matches_shared_copy(name: str) -> None:
    assert (SOURCES / name).read_bytes() == shared_file("sources", name).read_bytes(), (
        f"copy ../shared/sources/{name} into sources/")


def test_every_review_text_is_shipped() -> None:
    """Regression: the quote checks read ../shared/sources, which a clone does not have (1,333 errors)."""
    for review in RECORDS.of_kind("reviews"):
        assert (SOURCES / review.data["source_file"]).is_file(), f"ship {review.data['source_file']} in sources/"
    assert "CC BY 4.0" in (SOURCES / "README.md").read_text(encoding="utf-8"), "sources/README.md credits the reviews"


def test_references_file_is_what_the_extraction_script_writes(sources_dir: Path, tmp_path: Path) -> None:
    """Regression: the script read Mullinax 2021 as 1997 (a year in the journal's name), and
    the committed file had been corrected by hand, so regenerating it broke references."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    output = tmp_path / "references.yaml"
    subprocess.run([sys.executable, str(root / "scripts" / "extract_references.py"), str(sources_dir), str(output)],
                   check=True, capture_output=True, timeout=120)
    committed = root / "data" / "records" / "publications" / "references.yaml"
    assert output.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8"), (
        "data/records/publications/references.yaml differs from what scripts/extract_references.py writes: fix the "
        "script (the file says it is generated), then re-run it")
