"""Near-duplicates: do two texts tell the same article? Pure.

Two texts are compared as sets of word shingles (runs of ``shingle_words`` words of the
text, normalised as ``watcher.dedup.normalize_text`` does), each kept as a 64-bit hash.
A copy is what a republisher makes of an article: a new headline, light edits, other
captions, a "first appeared at" line, a paragraph or two trimmed. So two texts are one
article when

- the shorter is contained in the longer (``min_containment`` of its shingles are in
  the longer: edits and added lines move few shingles), and
- the shorter covers the longer (``min_coverage`` of the longer's shingles are in the
  shorter): a text of which a third or more is its own is another piece that quotes
  the first, such as a roundup that carries a wire story whole, a part 2 that repeats
  part 1's background, or a longer version.

Finding which stored texts to compare with is MinHash LSH (Broder's min-wise hashing,
banded as in "Mining of Massive Datasets", ch. 3): ``bands`` keys per text, each a hash
of ``rows`` MinHash values; two texts whose shingle sets have Jaccard similarity
J share at least one key with probability 1 - (1 - J^rows)^bands (0.99 at J = 0.6 with
the defaults, 21 x 3; the rule above implies J >= 0.6). The keys live in the database
beside the items, so the index costs no memory in any process and is not rebuilt at
start-up; the keys depend on these parameters, and a change of them re-keys the index
(``index_version``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import numpy.typing as npt

from watcher.dedup import paragraph_hashes, text_hash

__all__ = ["Fingerprint", "NearDupRule", "Overlap", "Shingles"]

Shingles = npt.NDArray[np.uint64]  # a text's distinct shingle hashes, sorted
_WORD = re.compile(r"[^\W_]+")  # the words of watcher.dedup.normalize_text
_ROLL = np.uint64(0x9E3779B97F4A7C15)  # odd: shingle hash = polynomial in its word hashes


@dataclass(frozen=True, slots=True, eq=False)  # arrays have no single truth value
class Fingerprint:
    """Everything dedup looks at in one text, computed once (in a worker process)."""

    text_hash: str  # the normalised text, exactly
    paragraphs: tuple[str, ...]  # hashes of its distinctive paragraphs
    shingles: Shingles
    bands: tuple[int, ...]  # its LSH keys

    def lock_keys(self, url_hashes: tuple[str, ...]) -> list[int]:
        """Everything the article can be found by as a copy (its URLs, its text, its
        paragraphs, its LSH keys) as signed 64-bit integers, sorted. Writers that lock
        these keys before they look for an original and store never both store one
        article: a copy of it shares one of them, or no lookup would find it either."""
        digests = [*url_hashes, self.text_hash, *self.paragraphs]
        keys = {int.from_bytes(bytes.fromhex(d[:16]), "big", signed=True) for d in digests}
        return sorted(keys | set(self.bands))


@dataclass(frozen=True, slots=True)
class Overlap:
    containment: float  # share of the shorter text's shingles found in the longer
    coverage: float  # share of the longer text's shingles found in the shorter


@dataclass(frozen=True, slots=True)
class NearDupRule:
    shingle_words: int = 5
    bands: int = 21
    rows: int = 3
    min_containment: float = 0.8
    min_coverage: float = 0.7

    @property
    def index_version(self) -> str:
        """What the stored keys depend on; stored with them so a change re-keys."""
        return f"minhash2:k{self.shingle_words}:b{self.bands}:r{self.rows}"

    def shingles(self, text: str) -> Shingles:
        words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
        if not words:
            return np.empty(0, dtype=np.uint64)
        ids = np.fromiter((_word_hash(w) for w in words), dtype=np.uint64, count=len(words))
        k = min(self.shingle_words, len(words))
        n = len(words) - k + 1
        rolled = np.zeros(n, dtype=np.uint64)
        for offset in range(k):
            rolled = rolled * _ROLL + ids[offset : offset + n]  # wraps modulo 2**64
        return np.unique(_mix(rolled))

    def fingerprint(self, text: str) -> Fingerprint:
        shingles = self.shingles(text)
        return Fingerprint(
            text_hash(text), tuple(paragraph_hashes(text)), shingles, self._keys(shingles)
        )

    def band_keys(self, text: str) -> tuple[int, ...]:
        """The text's LSH keys: signed 64-bit integers, as both databases store them."""
        return self._keys(self.shingles(text))

    def _keys(self, shingles: Shingles) -> tuple[int, ...]:
        if not shingles.size:
            return ()
        values = _minhash(shingles, self.bands * self.rows)
        keys = []
        for band in range(self.bands):
            chunk = values[band * self.rows : (band + 1) * self.rows].tobytes()
            digest = hashlib.blake2b(chunk, digest_size=8, salt=band.to_bytes(16, "big"))
            keys.append(int.from_bytes(digest.digest(), "big", signed=True))
        return tuple(keys)

    def overlap(self, a: str | Shingles, b: str | Shingles) -> Overlap:
        """``a`` and ``b`` as texts or as their shingles (to shingle a text once when
        it is compared with several)."""
        first = self.shingles(a) if isinstance(a, str) else a
        second = self.shingles(b) if isinstance(b, str) else b
        if not first.size or not second.size:
            return Overlap(0.0, 0.0)
        shared = len(np.intersect1d(first, second, assume_unique=True))
        shorter, longer = sorted((first.size, second.size))
        return Overlap(shared / shorter, shared / longer)

    def same_article(self, a: str | Shingles, b: str | Shingles) -> bool:
        found = self.overlap(a, b)
        return found.containment >= self.min_containment and found.coverage >= self.min_coverage


def _minhash(shingles: Shingles, count: int) -> npt.NDArray[np.uint64]:
    """``count`` MinHash values: for each of ``count`` fixed seeds, the least over the
    shingles of a 64-bit mix of (shingle hash XOR seed). The mix (the finaliser of
    MurmurHash3) is a bijection that spreads every input bit, so each seed orders the
    shingles at random. Written here rather than taken from datasketch, which computes
    the same but imports SciPy: 0.7 s in every process that starts."""
    least: npt.NDArray[np.uint64] = _mix(shingles[None, :] ^ _seeds(count)[:, None]).min(axis=1)
    return least


def _mix(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xFF51AFD7ED558CCD)  # wraps modulo 2**64, as intended
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xC4CEB9FE1A85EC53)
    return values ^ (values >> np.uint64(33))


@lru_cache(maxsize=1 << 16)
def _word_hash(word: str) -> int:
    """Stable across processes (Python's own str hash is salted per process)."""
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")


@cache
def _seeds(count: int) -> npt.NDArray[np.uint64]:
    """Fixed for ever (derived from their index, not drawn from a generator whose stream
    might change between NumPy releases): the stored keys depend on them."""
    return np.array(
        [
            int.from_bytes(
                hashlib.blake2b(f"watcher-minhash-{i}".encode(), digest_size=8).digest(), "little"
            )
            for i in range(count)
        ],
        dtype=np.uint64,
    )
