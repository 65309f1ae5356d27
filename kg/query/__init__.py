"""The query layer: the embedded Oxigraph store, the stored queries, the safety check and results.

Everything that runs SPARQL goes through :mod:`kg.query.store`; the stored queries
(``queries/*.rq``) and the package's own (``kg/query/page_queries``) are read by
:mod:`kg.query.queries`; what the public endpoint refuses is decided by :mod:`kg.query.safety`.
"""
