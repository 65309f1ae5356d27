"""Regenerate the generated files under data/: the SSSOM mappings and the JSON-LD context.

Usage: python scripts/update_generated.py

Both are made from the sources (records, verified identifiers, prefixes, ontology) and
committed; the tests fail when a committed file differs from what the code generates.
"""

from kg.errors import SarcomaKGError
from kg.pipeline.ontology import load_ontology
from kg.pipeline.records import load_records
from kg.pipeline.serialise import context_path
from kg.publish.context import write_jsonld_context
from kg.publish.mappings import default_mappings_path, write_mappings

try:
    ontology = load_ontology()
    print(write_mappings(load_records(), default_mappings_path(), ontology=ontology))
    print(write_jsonld_context(context_path(), ontology=ontology))
except SarcomaKGError as error:
    print(f"error: {error}")
    raise SystemExit(error.exit_code) from None
