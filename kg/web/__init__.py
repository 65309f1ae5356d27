"""The web layer: the Starlette app and its routers (SPARQL endpoint, REST API, pages), the
pool of sandboxed query workers every query runs in, and the uvicorn server."""
