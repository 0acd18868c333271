"""One shared HTTP client with the safety rules every download obeys.

- only http and https; redirects followed by hand (each hop re-checked, at most N);
- the address is checked when the socket is opened, on the address actually dialled,
  so DNS rebinding cannot slip a private address past a check made earlier;
- a total deadline per request, however slowly the bytes drip;
- a size cap enforced while streaming, on the decoded (decompressed) bytes;
- conditional GET with the validators the caller stored; a polite per-host pace.

Every failure leaves as a FetchError whose kind was decided in ``classify_error``.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import socket
import ssl
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from watcher.config import HttpConfig
from watcher.errors import BlockedAddress, FetchError
from watcher.fetch.pools import PoolPerOrigin

__all__ = [
    "AddressPolicy",
    "Fetcher",
    "NotModified",
    "Response",
    "classify_error",
    "fresh_for",
    "parse_retry_after",
]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHALLENGE_MARKERS = (b"cf-chl", b"challenge-platform", b"just a moment", b"captcha", b"ddos-guard")


@dataclass(frozen=True, slots=True)
class Response:
    """A completed download: what was asked, where it ended, and the bytes."""

    url: str
    final_url: str
    status: int
    content_type: str | None
    etag: str | None
    last_modified: str | None
    body: bytes
    fetched_at: datetime
    fresh_for: float | None = None  # seconds the server says the body stays fresh


@dataclass(frozen=True, slots=True)
class NotModified:
    """The server answered 304 to a conditional GET."""

    url: str
    fetched_at: datetime
    fresh_for: float | None = None


class AddressPolicy:
    """Decides which resolved addresses may be dialled.

    Public (globally routable) addresses always may; private, loopback, link-local and
    reserved ones only when inside one of the configured networks.
    """

    def __init__(self, allowed_networks: Iterable[str] = ()) -> None:
        self._allowed = [ipaddress.ip_network(cidr, strict=False) for cidr in allowed_networks]

    def permits(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip in network for network in self._allowed):
            return True
        return ip.is_global and not ip.is_multicast


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, checks every address, then dials the address checked."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = await self._resolve(host, port)
        return await self._inner.connect_tcp(
            address,
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def _resolve(self, host: str, port: int) -> str:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise FetchError(host, "dns", str(exc)) from exc
        addresses = [str(info[4][0]) for info in infos]
        # Refuse when any answer is outside policy: a name that mixes public and private
        # answers is exactly what a rebinding attack looks like.
        for address in addresses:
            if not self._policy.permits(address):
                raise BlockedAddress(host, address)
        return addresses[0]

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: AddressPolicy, max_connections: int, idle_after: float) -> None:
        super().__init__(trust_env=False)
        # httpx offers no public way to pass a network backend; the pool it builds is
        # replaced by pools that dial through the guard, one per origin (PoolPerOrigin
        # says why). Pinned by tests/fetch/test_http.py (a loopback server is refused
        # unless allowed).
        context = ssl.create_default_context()

        def pool() -> httpcore.AsyncConnectionPool:
            return httpcore.AsyncConnectionPool(
                ssl_context=context,
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
                keepalive_expiry=5.0,
                network_backend=_GuardedBackend(policy),
            )

        self._pool = PoolPerOrigin(pool, idle_after)  # type: ignore[assignment]


class _HostPacer:
    """Spaces request starts to one host by ``delay`` and bounds requests in flight."""

    def __init__(self, delay: float, longest_hold: float) -> None:
        self._delay = delay
        self._longest_hold = longest_hold
        self._per_host = 1 if delay > 0 else 8
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}

    @asynccontextmanager
    async def slot(self, host: str, url: str) -> AsyncIterator[None]:
        """The host's turn. A host that asked for a long pause (Retry-After) is not
        waited for: the request fails as rate_limited with the time left, and its
        source or entry is scheduled for after it, so one host cannot hold up a pass."""
        semaphore = self._slots.setdefault(host, asyncio.Semaphore(self._per_host))
        async with semaphore:
            wait = self._next_start.get(host, 0.0) - time.monotonic()
            if wait > self._longest_hold:
                detail = f"{host} asked for a pause of {wait:.0f} s more (Retry-After)"
                raise FetchError(url, "rate_limited", detail, retry_after=wait)
            if wait > 0:
                await asyncio.sleep(wait)
            self._next_start[host] = time.monotonic() + self._delay
            yield

    def hold_off(self, host: str, seconds: float) -> None:
        """Honour a Retry-After: no request to ``host`` before ``seconds`` from now."""
        start = time.monotonic() + seconds
        self._next_start[host] = max(self._next_start.get(host, 0.0), start)


class Fetcher:
    """The only way watcher downloads anything. Use as an async context manager."""

    def __init__(self, config: HttpConfig, transport: httpx.AsyncBaseTransport | None = None):
        self._config = config
        self._pacer = _HostPacer(config.per_host_delay, longest_hold=config.deadline)
        self._global = asyncio.Semaphore(config.concurrency)
        policy = AddressPolicy(config.allowed_networks)
        self._client = httpx.AsyncClient(
            transport=transport
            or _GuardedTransport(policy, config.concurrency, idle_after=config.deadline + 30),
            headers={"User-Agent": config.user_agent},
            timeout=httpx.Timeout(config.timeout),
            follow_redirects=False,
            trust_env=False,
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._client.aclose()

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "*/*",
    ) -> Response | NotModified:
        """GET ``url`` within the deadline; raise FetchError with a classified kind."""
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            return await self._follow(url, headers)
        except FetchError:
            raise
        except TimeoutError as exc:
            detail = f"no complete response within the {self._config.deadline:g} s deadline"
            raise FetchError(url, "timeout", detail) from exc
        except Exception as exc:
            raise classify_error(exc, url) from exc

    async def _follow(self, url: str, headers: dict[str, str]) -> Response | NotModified:
        loop = asyncio.get_running_loop()
        deadline_at: float | None = None
        current = url
        for _hop in range(self._config.max_redirects + 1):
            _check_scheme(current)
            host = urlsplit(current).hostname or ""
            # The deadline starts once the request may go: time spent waiting for the
            # host's turn (politeness) or a free slot is not the server's slowness.
            async with self._pacer.slot(host, url), self._global:
                if deadline_at is None:
                    deadline_at = loop.time() + self._config.deadline
                async with asyncio.timeout_at(deadline_at):
                    result = await self._one(url, current, headers)
            if isinstance(result, str):
                current = result
                continue
            return result
        raise FetchError(url, "redirect", f"more than {self._config.max_redirects} redirects")

    async def _one(
        self, url: str, current: str, headers: dict[str, str]
    ) -> str | Response | NotModified:
        """One hop: the next URL (a redirect), or the final Response / NotModified."""
        async with self._client.stream("GET", current, headers=headers) as response:
            if response.status_code in _REDIRECTS and "location" in response.headers:
                return str(response.url.join(response.headers["location"]))
            if response.status_code == 304:
                return NotModified(url, _now(), fresh_for(response.headers, _now()))
            body = await self._read_capped(url, response)
            _raise_for_status(url, response, body, self._pacer)
            return Response(
                url=url,
                final_url=str(response.url),
                status=response.status_code,
                content_type=response.headers.get("content-type"),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                body=body,
                fetched_at=_now(),
                fresh_for=fresh_for(response.headers, _now()),
            )

    async def _read_capped(self, url: str, response: httpx.Response) -> bytes:
        limit = self._config.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(url, "too_large", f"Content-Length {declared} > {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        # aiter_bytes yields decoded bytes: the cap holds on the decompressed size too,
        # so a small gzip bomb is cut off at the limit instead of filling memory.
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise FetchError(url, "too_large", f"body exceeds {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def _check_scheme(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(url, "bad_scheme", f"scheme {scheme or '(none)'!r} is not http(s)")


def _raise_for_status(url: str, response: httpx.Response, body: bytes, pacer: _HostPacer) -> None:
    status = response.status_code
    if status < 400:
        return
    retry_after = parse_retry_after(response.headers.get("retry-after"), _now())
    if retry_after is not None:
        pacer.hold_off(response.url.host, retry_after)
    detail = f"HTTP {status}"
    head = body[:4096].lower()
    if status == 429:
        raise FetchError(url, "rate_limited", detail, retry_after=retry_after)
    if status in (403, 503) and any(marker in head for marker in _CHALLENGE_MARKERS):
        raise FetchError(url, "blocked", f"{detail} with a bot challenge", retry_after=retry_after)
    if status >= 500:
        raise FetchError(url, "http_5xx", detail, retry_after=retry_after)
    if status == 403:
        # Think-tank sites answer bots with a bare 403 as often as with a challenge page;
        # either may lift, so it is retried rather than written off like a 404.
        raise FetchError(url, "blocked", detail)
    raise FetchError(url, "http_4xx", detail)


def fresh_for(headers: httpx.Headers, now: datetime) -> float | None:
    """Seconds a response stays fresh: Cache-Control max-age (s-maxage for shared
    caches is not ours), else Expires; None when the server says nothing usable."""
    for directive in headers.get("cache-control", "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "max-age" and value.strip().strip('"').isdigit():
            return float(value.strip().strip('"'))
    expires = headers.get("expires")
    return _seconds_until(expires, now) if expires else None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    return _seconds_until(value, now)


def _seconds_until(http_date: str, now: datetime) -> float | None:
    """Seconds from ``now`` to an HTTP-date (0 if it has passed); None if unreadable."""
    try:
        when = email.utils.parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def classify_error(exc: BaseException, url: str) -> FetchError:
    """The one place where a low-level failure becomes one of the closed error kinds."""
    if isinstance(exc, FetchError):
        return exc
    detail = f"{type(exc).__name__}: {exc}".rstrip(": ")
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return FetchError(url, "timeout", detail or "deadline exceeded")
    if isinstance(exc, ssl.SSLError) or "SSL" in detail or "certificate" in detail:
        return FetchError(url, "tls", detail)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return FetchError(url, "bad_scheme", detail)
    if isinstance(exc, httpx.DecodingError):
        return FetchError(url, "parse_error", f"undecodable body: {detail}")
    if isinstance(exc, httpx.TransportError | OSError):
        return FetchError(url, "connect", detail)
    return FetchError(url, "connect", f"unexpected {detail}")


def _now() -> datetime:
    return datetime.now(UTC)
