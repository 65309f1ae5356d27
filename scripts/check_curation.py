"""Check the curated records: schema, references, rules, and that every quote is verbatim.

Usage: python scripts/check_curation.py [SOURCES] [--uncovered]   (default: the repository's sources/)

With --uncovered, also list the sentences of the reviews that no quote covers: where to
look for a fact not yet recorded (most hold none: background, opinion, funding).
"""

import argparse
from collections import Counter
from pathlib import Path

from kg.errors import SarcomaKGError
from kg.pipeline.quotes import quote_problems, uncovered_sentences
from kg.pipeline.records import load_records

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("sources", nargs="?", type=Path, default=Path(__file__).resolve().parent.parent / "sources",
                    help="the directory with the reviews' text (default: the repository's sources/)")
parser.add_argument("--uncovered", action="store_true", help="list the review sentences no quote covers")
arguments = parser.parse_args()
try:
    records = load_records()
    problems = quote_problems(records, arguments.sources)
    passages = uncovered_sentences(records, arguments.sources) if arguments.uncovered else []
except SarcomaKGError as error:  # exit 1 for data that fails a check, 2 for a file that cannot be read
    print(f"error: {error}")
    raise SystemExit(error.exit_code) from None
for problem in problems:
    print(problem)
print(f"{len(problems)} quote problem(s); records: {dict(Counter(record.kind for record in records.records))}")
if arguments.uncovered:
    for passage in passages:
        print(f"{passage.review} @{passage.offset}: {passage.text}")
    print(f"{len(passages)} sentence(s) no quote covers")
raise SystemExit(1 if problems else 0)
