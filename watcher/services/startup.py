"""The ``watcher`` program's first lines: they run before the command's imports.

Importing the pipeline takes a second or more (trafilatura, lxml, SQLAlchemy). A
service manager that stops ``watcher run`` (or ``scheduler``, or ``worker``) in that
second must see the clean exit 0 it sees later, not death by signal; so SIGTERM is
answered before anything heavy is imported. Other commands keep the default (a
killed ``watcher fetch`` is not a success).
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

__all__ = ["main"]

_GLOBAL_OPTIONS_WITH_VALUE = ("--config",)
_SERVICES = ("run", "scheduler", "worker")  # long-running: a stop is a clean exit


def main() -> None:
    command = _command(sys.argv[1:])
    if command in _SERVICES:
        signal.signal(signal.SIGTERM, _stop_before_start)
    from watcher.cli import main as cli_main  # after the handler, on purpose

    cli_main()


def _stop_before_start(_number: int, _frame: FrameType | None) -> None:
    """Nothing has started yet: nothing to finish (the daemon replaces this handler)."""
    raise SystemExit(0)


def _command(arguments: list[str]) -> str | None:
    """The subcommand's name: the first argument that is not a global option."""
    skip = False
    for argument in arguments:
        if skip:
            skip = False
            continue
        if argument in _GLOBAL_OPTIONS_WITH_VALUE:
            skip = True
            continue
        if not argument.startswith("-"):
            return argument
    return None
