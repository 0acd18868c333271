"""watcher's exceptions, one tree.

    WatcherError
    ├── ConfigError          bad configuration file or environment value (exit 2)
    ├── StoreError           the database is unusable (schema, connection)
    ├── DeliveryError        the mail server did not take a message; ``temporary`` or not
    └── FetchError           one HTTP fetch failed; ``kind`` is one of FETCH_ERROR_KINDS
        └── BlockedAddress   the resolved address is private and not allowed

Every error names what it is about (a file, a URL) and is raised ``from`` its cause.
Fetch failures are reduced to a closed set of kinds in one place (``http.classify_error``)
so that storage, schedule and reports can reason about them without string matching.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "FETCH_ERROR_KINDS",
    "TRANSIENT_KINDS",
    "BlockedAddress",
    "ConfigError",
    "DeliveryError",
    "FetchError",
    "FetchErrorKind",
    "StoreError",
    "WatcherError",
]

FetchErrorKind = Literal[
    "dns",
    "connect",
    "timeout",
    "tls",
    "http_4xx",
    "http_5xx",
    "rate_limited",
    "redirect",
    "blocked",
    "robots",
    "bad_scheme",
    "too_large",
    "not_a_feed",
    "parse_error",
    "extract_error",
]
FETCH_ERROR_KINDS: frozenset[str] = frozenset(get_args(FetchErrorKind))

# Kinds worth another try later: the server or the network may recover. The others
# (404, a page too large, no article text) will not change by waiting. "blocked" (a bot
# wall, or an address outside allowed_networks) is retried: walls lift, configs change.
TRANSIENT_KINDS: frozenset[str] = frozenset(
    {"dns", "connect", "timeout", "tls", "http_5xx", "rate_limited", "blocked"}
)


class WatcherError(Exception):
    """Base of every error watcher raises on purpose."""


class ConfigError(WatcherError):
    """The configuration cannot be used; the message names the file and the key."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"invalid configuration in {path}:\n{lines}")


class StoreError(WatcherError):
    """The database cannot be opened or is not at the expected schema."""


class FetchError(WatcherError):
    """One request failed; ``transient`` says whether retrying later may help."""

    def __init__(
        self,
        url: str,
        kind: FetchErrorKind,
        detail: str = "",
        *,
        retry_after: float | None = None,
    ) -> None:
        self.url = url
        self.kind: FetchErrorKind = kind
        self.detail = detail
        self.retry_after = retry_after
        super().__init__(f"{kind}: {detail} ({url})" if detail else f"{kind} ({url})")

    @property
    def transient(self) -> bool:
        return self.kind in TRANSIENT_KINDS


class BlockedAddress(FetchError):
    """Raised at connect time when a host resolves to an address outside policy."""

    def __init__(self, host: str, address: str) -> None:
        # "blocked", as a bot wall is: the host is not ours to read (a later
        # configuration may allow it, so it is retried with backoff, not dropped).
        super().__init__(host, "blocked", f"{host} resolves to non-public address {address}")
        self.address = address


class DeliveryError(WatcherError):
    """A message the mail server did not accept. ``temporary``: a 4xx answer or a
    network fault, worth another try soon; else a 5xx answer or a TLS or login fault,
    which waiting alone will not mend."""

    def __init__(self, detail: str, *, temporary: bool) -> None:
        super().__init__(detail)
        self.temporary = temporary
