"""Sarcoma-KG: a knowledge graph of the evidence on immunotherapy for sarcoma.

The package turns curated records (``data/records``) into an OWL/RDF graph, checks it
with OWL reasoning (HermiT), SHACL and quality queries, and answers stored SPARQL
queries on an embedded Oxigraph store.
"""

from kg.errors import ConfigurationError, DataError, Problem, QueryError, SarcomaKGError

__all__ = ["ConfigurationError", "DataError", "Problem", "QueryError", "SarcomaKGError"]
__version__ = "0.1.0"
