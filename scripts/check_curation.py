"""Check the curated records: schema, references, rules, and that every quote is verbatim.

Usage: python scripts/check_curation.py [../shared/sources]
"""

import sys
from pathlib import Path

from kg.errors import DataError
from kg.quotes import quote_problems
from kg.records import load_records

try:
    records = load_records()
except DataError as error:
    print(error)
    raise SystemExit(1) from None
problems = quote_problems(records, Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/sources"))
for problem in problems:
    print(problem)
counts = {}
for record in records.records:
    counts[record.kind] = counts.get(record.kind, 0) + 1
print(f"{len(problems)} quote problem(s); records: {counts}")
raise SystemExit(1 if problems else 0)
