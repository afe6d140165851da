"""The web UI: a thin shell over `pygestor.catalog.Catalog` (`pygestor ui`, the `ui` extra).

Every page and every JSON route calls the same Catalog methods the CLI and the Python API call;
no rule is implemented twice. `app.create_app` builds the ASGI application, `serve.serve` runs it
with uvicorn. Nothing here is imported by the library, and FastAPI is imported only by these
modules.

    app.py        the application: settings, security, error mapping, routers, static files
    security.py   loopback/Host checks, the token, cross-site request refusal, response headers
    views.py      view models (plain dicts) shared by the JSON API and the pages
    api.py        the JSON API under /api (OpenAPI at /api/openapi.json)
    models.py     its request and response models (what the OpenAPI describes)
    jobs.py       background downloads: persisted, live progress, cancel, resume
    pages.py      HTML pages and htmx fragments (templates/, static/)
    serve.py      `pygestor ui`: host/port/token, uvicorn (hosts.py: loopback names)
"""
