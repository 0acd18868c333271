"""The command line: ``watcher [--config PATH] COMMAND``, one module per command group.

    _common    the app, the consoles, loading the configuration, failing with a message
               and an exit code, opening and closing the store
    passes     fetch, run, scheduler, worker, status: the work and whether it keeps up
    classify   classify: verdicts on texts given
    digest     digest: preview it or send it
    sources    sources list | check | discover | import | export
    items      items list | search | mark | reclassify
    admin      db upgrade, export atom

Exit codes (DESIGN.md): 0 the command ran (a fetch pass may have had failing sources),
1 every source failed, 2 bad usage or configuration. Output goes to stdout, logs to
stderr.
"""

from __future__ import annotations

# Imported for their commands, in the order `watcher --help` lists them.
# isort: off
from watcher.cli import passes, classify, digest, sources, items, admin
from watcher.cli._common import app

# isort: on

__all__ = ["app", "main"]

_COMMAND_MODULES = (passes, classify, digest, sources, items, admin)


def main() -> None:
    app()
