"""What the endpoint refuses before running a query (kg.safety), one case per line."""

from __future__ import annotations

import pytest

from kg.safety import QueryRefused, check_read_only

ALLOWED = [
    "SELECT ?service WHERE { ?service <http://example.org/from> ?load }",
    'PREFIX ex: <http://example.org/> SELECT * WHERE { ?s ex:from ?o . ?s ?p "LOAD DATA" } # DELETE',
    "SELECT $from WHERE { ?s ?p ?o }",
    "PREFIX : <http://example.org/> SELECT * WHERE { ?s :load ?o . ?s :service ?x }",
    "SELECT * WHERE { ?s ?p '''INSERT DATA { <a> <b> <c> }''' }",
]
REFUSED = [
    ("INSERT DATA { <http://a> <http://b> <http://c> }", "INSERT"),
    ("select * from <http://example.org/g> where { ?s ?p ?o }", "FROM"),
    ("SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }", "FROM"),
    ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
    ("load <http://example.org/data.ttl>", "LOAD"),
    ("WITH <http://example.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "DELETE"),
]


@pytest.mark.parametrize("query", ALLOWED)
def test_keywords_inside_names_strings_and_comments_are_not_refused(query: str) -> None:
    check_read_only(query)


@pytest.mark.parametrize(("query", "keyword"), REFUSED)
def test_refused_query_names_what_is_not_allowed(query: str, keyword: str) -> None:
    with pytest.raises(QueryRefused, match=keyword):
        check_read_only(query)
    with pytest.raises(QueryRefused, match=keyword):  # the cached answer refuses it too
        check_read_only(query)
