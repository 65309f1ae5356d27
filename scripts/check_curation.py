"""Check the curated records: schema, references, rules, and that every quote is verbatim.

Usage: python scripts/check_curation.py [../shared/sources] [--uncovered]

With --uncovered, also list the sentences of the reviews that no quote covers: where to
look for a fact not yet recorded (most hold none: background, opinion, funding).
"""

import sys
from pathlib import Path

from kg.errors import DataError
from kg.quotes import quote_problems, uncovered_sentences
from kg.records import load_records

try:
    records = load_records()
except DataError as error:
    print(error)
    raise SystemExit(1) from None
arguments = [argument for argument in sys.argv[1:] if argument != "--uncovered"]
sources = Path(arguments[0] if arguments else "../shared/sources")
problems = quote_problems(records, sources)
for problem in problems:
    print(problem)
counts = {}
for record in records.records:
    counts[record.kind] = counts.get(record.kind, 0) + 1
print(f"{len(problems)} quote problem(s); records: {counts}")
if "--uncovered" in sys.argv[1:]:
    passages = uncovered_sentences(records, sources)
    for passage in passages:
        print(f"{passage.review} @{passage.offset}: {passage.text}")
    print(f"{len(passages)} sentence(s) no quote covers")
raise SystemExit(1 if problems else 0)
