"""The daily digest: select (``content``), render (``render``), send (``send``), and
when (``timing``). See each module; the daemon and ``watcher digest`` use these names."""

from __future__ import annotations

from watcher.delivery.digest.content import Digest, build_digest
from watcher.delivery.digest.render import Rendered, compose, render
from watcher.delivery.digest.send import PASSWORD_VARIABLE, Outcome, deliver_digests, send_digests
from watcher.delivery.digest.timing import last_send_time, next_send_time

__all__ = [
    "PASSWORD_VARIABLE",
    "Digest",
    "Outcome",
    "Rendered",
    "build_digest",
    "compose",
    "deliver_digests",
    "last_send_time",
    "next_send_time",
    "render",
    "send_digests",
]
