"""Fetching: the HTTP client every request goes through, and robots.txt."""

import sys
import types

# httpx's __init__ imports its command-line client, and with it click, rich.syntax and
# pygments' lexer table: about 80 ms of every `watcher fetch`, `run` and `serve` start,
# for a client watcher never runs (encode/httpx#3547). A stand-in without ``main`` makes
# that import fail as it does when httpx's CLI extras are not installed, which httpx
# handles: only ``httpx.main`` is lost. Nothing changes if httpx was imported before.
sys.modules.setdefault("httpx._main", types.ModuleType("httpx._main"))
