"""The README's figures about the curated graph are the built graph's, not last month's.

Regression: the counts and the disagreements table were updated by hand after each curation
round, and nothing failed when one was forgotten.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox

from kg.publish.stats import statistics
from kg.query.queries import get_query
from kg.query.store import select

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_counts_are_the_built_graphs(store: ox.Store) -> None:
    counts = statistics(store)
    expected = (
        f"{counts['studies']} studies ({counts['clinical trials']} clinical trials), {counts['arms']} arms, "
        f"{counts['regimens']} regimens, {counts['measurements']} measurements and {counts['findings']} findings "
        f"(all with a verified quote), {counts['therapies']} therapies, {counts['targets']} targets, "
        f"{counts['immune cell types']} immune cell types, {counts['TME features']} TME features, "
        f"{counts['subtypes']} subtypes, {counts['publications']} publications, {counts['disagreements']} disagreements."
    )
    written = re.search(r"Counts \(`sarcoma-kg stats`\): (.*?\.)\n\n", README, re.DOTALL)
    assert written, "README.md has no 'Counts (`sarcoma-kg stats`): ...' paragraph"
    assert " ".join(written.group(1).split()) == expected, (
        f"README.md's counts are out of date: write `{expected}` (from `sarcoma-kg stats`)")


def test_readme_disagreements_table_has_every_disagreement(store: ox.Store) -> None:
    section = README.split("### Where the sources disagree", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| kind |")]
    answered = list(select(store, get_query("disagreements").text))
    assert len(rows) == len(answered), (
        f"README.md lists {len(rows)} disagreements, the graph has {len(answered)}: paste the table made by "
        "`sarcoma-kg query disagreements`")
    # each row shows the disagreement's kind, as the query does
    kinds = sorted(line.split(" | ", 1)[0].removeprefix("| ") for line in rows)
    assert kinds == sorted(solution["kind"].value for solution in answered)


def test_readme_linked_entity_counts_are_the_records() -> None:
    """Regression: the README said 12 of 16 immune cell types after a seventeenth was curated."""
    from kg.pipeline.records import XREF_FIELDS, load_records

    records = load_records()
    parts = []
    for kind, name in [("therapies", "therapies"), ("targets", "targets"), ("cell_types", "immune cell types"),
                       ("subtypes", "subtypes"), ("tme_features", "TME features")]:
        of_kind = list(records.of_kind(kind))
        linked = sum(1 for record in of_kind if any(record.data.get(field) for field in XREF_FIELDS))
        parts.append(f"{name} {linked if linked else 'none'} of {len(of_kind)}")
    expected = "Linked entities (at least one verified identifier): " + ", ".join(parts)
    assert expected in " ".join(README.split()), f"README.md's linked-entity counts are out of date: write `{expected}`"


def test_readme_test_command_is_what_ci_runs() -> None:
    """The README's test command and .ci/run's are one command (the issue: they had drifted apart)."""
    command = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert f"```bash\n{command}\n```" in README, f"README.md's test command is not .ci/run's: write `{command}`"
