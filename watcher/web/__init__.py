"""The review page: read, search and correct watcher's verdicts in a browser.

An ASGI app (Starlette) served by uvicorn on the daemon's own event loop (``watcher run``,
``watcher scheduler``) or alone (``watcher serve``), from the database alone. Every
action is a plain HTML form (POST, with a CSRF token); no script, no file from outside.
It also answers the operator's paths: ``/healthz``, ``/metrics``, ``/feed.atom``.
"""
