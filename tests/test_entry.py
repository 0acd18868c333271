"""The program's first lines find the command before anything heavy is imported."""

from __future__ import annotations

import pytest

from watcher.entry import _command


@pytest.mark.parametrize(
    ("arguments", "command"),
    [
        (["run"], "run"),
        (["--config", "run.toml", "fetch"], "fetch"),
        (["-v", "--config", "/etc/watcher.toml", "run"], "run"),
        (["--config=x.toml", "run"], "run"),
        (["--help"], None),
        ([], None),
    ],
)
def test_the_command_is_the_first_argument_that_is_no_global_option(
    arguments: list[str], command: str | None
) -> None:
    assert _command(arguments) == command
