"""The URLs one article is known by, in canonical form, each hashed once."""

from __future__ import annotations

from dataclasses import dataclass, replace

from watcher.dedup.neardup import Fingerprint
from watcher.dedup.urls import canonical_url, trusted_canonical, url_hash

__all__ = ["ArticleIdentity"]


@dataclass(frozen=True, slots=True)
class ArticleIdentity:
    """An entry's link, the page's final URL and the canonical it declares (when it is
    believable), canonical all three; computed once per article and read by the lock,
    the lookup and the insert alike."""

    link: str
    final: str
    declared: str | None
    hashes: dict[str, str]  # each of the URLs above -> its url_hash

    @classmethod
    def of(cls, link: str, page_url: str, declared_canonical: str | None) -> ArticleIdentity:
        """``link``: the entry's link, canonical already (it was looked up by it)."""
        final = canonical_url(page_url)
        declared = trusted_canonical(declared_canonical, page_url)
        urls = {u for u in (link, final, declared) if u}
        return cls(link, final, declared, {u: url_hash(u) for u in urls})

    @property
    def aliases(self) -> tuple[str, ...]:
        """Every URL, the one the article is filed under first (declared, final, link)."""
        return tuple(u for u in dict.fromkeys([self.declared, self.final, self.link]) if u)

    @property
    def declares_another(self) -> bool:
        """The page names a canonical other than where it was found: to be checked."""
        return self.declared is not None and self.declared not in (self.final, self.link)

    def without_declared(self) -> ArticleIdentity:
        """The same article when its declared canonical is not believed."""
        return replace(self, declared=None)

    def lock_keys(self, fingerprint: Fingerprint) -> list[int]:
        return fingerprint.lock_keys(tuple(self.hashes[u] for u in sorted(self.hashes)))
