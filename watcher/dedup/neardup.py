"""Near-duplicates: do two texts tell the same article? Pure.

Two texts are compared as sets of word shingles (runs of ``shingle_words`` words of the
text, normalised as ``watcher.dedup.urls.normalize_text`` does), each kept as a 64-bit hash.
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
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from watcher.dedup.urls import paragraph_hashes, text_hash

if TYPE_CHECKING:
    from watcher.config import DedupConfig

__all__ = [
    "Fingerprint",
    "NearDupRule",
    "Overlap",
    "Passage",
    "Shingles",
    "is_teaser",
    "own_content",
    "similar_titles",
]

Shingles = npt.NDArray[np.uint64]  # a text's distinct shingle hashes, sorted
_WORD = re.compile(r"[^\W_]+")  # the words of watcher.dedup.urls.normalize_text
_ROLL = np.uint64(0x9E3779B97F4A7C15)  # odd: shingle hash = polynomial in its word hashes
_OPENING_SHINGLES = 40  # a partial copy's shared run starts within this many shingles...
_OPENING_SHARE = 0.1  # ...or this share of the longer text (a lede, a dateline skipped)
_OPENING_WORDS = 15  # the words of a text's opening key
_WINDOW_SLACK = 1.25  # the run may be this much longer than the shorter (edits, captions)
# A run of the shorter's own shingles this long is a paragraph of its own: 25, or a tenth
# of a short text (a two-paragraph release), but never under 8 (an edited sentence).
_OWN_PARAGRAPH_SHINGLES = 25
_OWN_MIN_SHINGLES = 8
_TITLE_OVERLAP = 0.5  # titles sharing this share of their words tell one article
# The line with which an excerpt or a teaser hands over to the full text.
_CONTINUE = re.compile(
    r"^\W*(continue[sd]? reading|keep reading|read (the )?(full|whole|rest|complete|more)"
    r"|read more\b|the (full|complete) (article|analysis|story|text|report)"
    r"|(this|the) (article|analysis|piece) (first|originally) (appeared|was published)"
    r"|(originally|first) (published|appeared)|weiterlesen|читать (далее|полностью)"
    r"|기사 (전문|원문)|원문 보기|전문 보기|계속 읽기)",
    re.IGNORECASE,
)
_CUT = ("…", "...", "[…]", "(…)")


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


@dataclass(frozen=True, slots=True, eq=False)
class Passage:
    """A text as the partial-copy rule reads it: its shingles in order (where the shared
    run lies), its title, and how it ends (a "continue reading" line, a cut)."""

    sequence: Shingles  # shingle hashes in text order, repeats kept
    shingles: Shingles  # the same, sorted and distinct (as ``NearDupRule.shingles``)
    title: str | None
    teaser: bool  # it says the rest is elsewhere, or stops on an ellipsis


@dataclass(frozen=True, slots=True)
class NearDupRule:
    shingle_words: int = 5
    bands: int = 21
    rows: int = 3
    min_containment: float = 0.8
    min_coverage: float = 0.7
    # A partial copy (an excerpt, a teaser): this share of its shingles in the longer...
    min_partial_containment: float = 0.9

    @classmethod
    def of(cls, settings: DedupConfig) -> NearDupRule:
        """The rule ``[dedup]`` sets (the partial-copy share is not configurable)."""
        return cls(**settings.model_dump())

    @property
    def index_version(self) -> str:
        """What the stored keys depend on; stored with them so a change re-keys."""
        return f"minhash3:k{self.shingle_words}:b{self.bands}:r{self.rows}"

    def shingles(self, text: str) -> Shingles:
        return np.unique(self.sequence(text))

    def fingerprint(self, text: str) -> Fingerprint:
        own = own_content(text)
        words = _words(own)
        return self._fingerprint(text, own, words, np.unique(self._sequence(words)))

    def read(self, text: str, title: str | None) -> tuple[Fingerprint, Passage]:
        """``fingerprint(text)`` and ``passage(text, title)``, the text split into words
        and shingled once (a worker does both for every article)."""
        own = own_content(text)
        words = _words(own)
        sequence = self._sequence(words)
        shingles = np.unique(sequence)
        passage = Passage(sequence, shingles, title, is_teaser(text))
        return self._fingerprint(text, own, words, shingles), passage

    def _fingerprint(
        self, text: str, own: str, words: list[str], shingles: Shingles
    ) -> Fingerprint:
        keys = [*paragraph_hashes(own), *_opening_key(words)]
        return Fingerprint(
            text_hash(text), tuple(dict.fromkeys(keys)), shingles, self._keys(shingles)
        )

    def band_keys(self, text: str) -> tuple[int, ...]:
        """The text's LSH keys: signed 64-bit integers, as both databases store them."""
        return self._keys(self.shingles(own_content(text)))

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
        """A whole copy: the shorter is (nearly) in the longer and covers most of it, and
        (given texts) has no paragraph of its own (see ``whole_copy``)."""
        if isinstance(a, str) and isinstance(b, str):
            return self.whole_copy(self.passage(a, None), self.passage(b, None))
        found = self.overlap(a, b)
        return found.containment >= self.min_containment and found.coverage >= self.min_coverage

    def whole_copy(self, a: Passage, b: Passage) -> bool:
        """``same_article`` on passages: the overlap rule, and no run of the shorter's own
        words as long as a paragraph. Edits and a republisher's lines leave short runs;
        two releases that share a long disclaimer each keep a paragraph of their own."""
        first, second = a.shingles, b.shingles
        found = self.overlap(first, second)
        if found.containment < self.min_containment or found.coverage < self.min_coverage:
            return False
        shorter, longer = (a, second) if first.size <= second.size else (b, first)
        own = _longest_run(~_member(shorter.sequence, longer))
        paragraph = min(
            _OWN_PARAGRAPH_SHINGLES, max(_OWN_MIN_SHINGLES, 0.1 * shorter.sequence.size)
        )
        return own < paragraph

    def passage(self, text: str, title: str | None) -> Passage:
        sequence = self.sequence(own_content(text))
        return Passage(sequence, np.unique(sequence), title, is_teaser(text))

    def sequence(self, text: str) -> Shingles:
        """The text's shingle hashes in order (``shingles`` is their sorted set)."""
        return self._sequence(_words(text))

    def _sequence(self, words: list[str]) -> Shingles:
        if not words:
            return np.empty(0, dtype=np.uint64)
        ids = np.fromiter((_word_hash(w) for w in words), dtype=np.uint64, count=len(words))
        k = min(self.shingle_words, len(words))
        n = len(words) - k + 1
        rolled = np.zeros(n, dtype=np.uint64)
        for offset in range(k):
            rolled = rolled * _ROLL + ids[offset : offset + n]  # wraps modulo 2**64
        return _mix(rolled)

    def partial_of(self, shorter: Passage, longer: Passage) -> bool:
        """Whether ``shorter`` is an excerpt or a teaser of ``longer``: nearly all of its
        own content is one run of the longer that starts at or near its opening, and it
        presents itself as part of something (a title like the longer's, a "continue
        reading" line, a cut mid-sentence).

        Where the shared text lies is what tells a partial copy from other pieces that
        share text: a roundup quotes several openings (little of it is any one
        article's), an analysis quotes a statement in its middle, a part 2 repeats part
        1's background and goes on with its own, releases share a closing disclaimer."""
        mine, theirs = shorter.shingles, longer.sequence
        if not mine.size or theirs.size <= mine.size:
            return False
        found = np.flatnonzero(_member(theirs, mine))
        if not found.size:
            return False
        first = int(found[0])
        if first > max(_OPENING_SHINGLES, _OPENING_SHARE * theirs.size):
            return False  # quoted further down: a statement inside an analysis
        # One run: nearly all of the shorter within a window of its own length from there
        # (a phrase it shares with later paragraphs does not stretch the run).
        window = theirs[first : first + int(mine.size * _WINDOW_SLACK) + _OPENING_SHINGLES]
        shared = int(_member(mine, np.unique(window)).sum())
        if shared / mine.size < self.min_partial_containment:
            return False
        return shorter.teaser or similar_titles(shorter.title, longer.title)


def _words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def _opening_key(words: list[str]) -> list[str]:
    """A key for the text's first words, kept among its paragraph keys: a teaser cut
    mid-paragraph shares no whole paragraph with its article, but it shares the
    opening. (An opening many texts share, a dateline formula, is furniture there.)"""
    if len(words) < _OPENING_WORDS:
        return []
    opening = " ".join(words[:_OPENING_WORDS])
    digest = hashlib.sha256(("opening:" + opening).encode()).hexdigest()[:16]
    return [digest]


def _member(values: Shingles, sorted_set: Shingles) -> npt.NDArray[np.bool_]:
    """Which of ``values`` are in ``sorted_set`` (sorted and distinct, as ``shingles``
    are): a binary search each, cheaper than ``np.isin``'s sort of both."""
    if not sorted_set.size:
        return np.zeros(values.size, dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, values), sorted_set.size - 1)
    found: npt.NDArray[np.bool_] = sorted_set[at] == values
    return found


def _longest_run(flags: npt.NDArray[np.bool_]) -> int:
    """The longest run of True in ``flags``."""
    if not flags.any():
        return 0
    padded = np.concatenate(([False], flags, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return int((edges[1::2] - edges[::2]).max())


def own_content(text: str) -> str:
    """The text without the lines that hand over to the full text elsewhere."""
    return "\n".join(line for line in text.splitlines() if not _CONTINUE.match(line.strip()))


def is_teaser(text: str) -> bool:
    """Whether a text says it is part of something: a "continue reading" line among its
    last lines, or its content stopping on an ellipsis. (A missing full stop says
    nothing: many whole articles end on a credit line.)"""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if any(_CONTINUE.match(line) for line in lines[-3:]):
        return True
    content = [line for line in lines if not _CONTINUE.match(line)]
    return bool(content) and content[-1].endswith(_CUT)


def similar_titles(a: str | None, b: str | None) -> bool:
    """Two titles of one article: one contains the other, or they share half their
    words (a changed kicker, a site suffix, a reworded half)."""
    if not a or not b:
        return False
    first, second = set(_WORD.findall(a.casefold())), set(_WORD.findall(b.casefold()))
    if not first or not second:
        return False
    return len(first & second) / min(len(first), len(second)) >= _TITLE_OVERLAP


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
