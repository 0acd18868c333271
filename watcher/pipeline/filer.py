"""Corpus file numbers and files, for the articles a pass stores.

The store gives an article its number in the transaction that stores it; this module
proposes the number (above the folder's highest and the database's), writes the file
off the event loop, and takes the next number when a file the user put there meanwhile
holds the name. Files are created exclusively and never overwritten.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from watcher.corpus import highest_number, refresh_manifest, render, write_exclusive
from watcher.report import StageTimes
from watcher.store import NewItem, Store

__all__ = ["CorpusFiler", "Filing"]

log = logging.getLogger(__name__)

_ATTEMPTS = 100  # names tried before a file is left for the next start to write


@dataclass(frozen=True, slots=True)
class Filing:
    """An article stored with a corpus file name, whose file is still to be written."""

    item_id: int
    item: NewItem
    name: str


class CorpusFiler:
    def __init__(
        self, corpus: Path, store: Store, write_files: bool, times: StageTimes | None = None
    ) -> None:
        """``write_files`` false: articles get their file names in the database, and the
        process that owns the corpus folder writes them (``watcher.corpus.write_unwritten``):
        a queue worker's."""
        self._corpus = corpus
        self._store = store
        self.write_files = write_files
        # The folder's highest number, kept current (the database's, for a worker).
        self._floor = highest_number(corpus) if write_files else 0
        self._filed: list[int] = []  # written this pass, marked in one statement at its end
        self._lock = threading.Lock()  # files are written on threads
        self._times = times or StageTimes()

    def start_pass(self) -> None:
        highest = max(highest_number(self._corpus), self._store.highest_file_number())
        with self._lock:
            self._floor = highest

    def finish_pass(self, now: datetime) -> None:
        """Mark the files written this pass, and write the manifest once if anything in
        it changed."""
        with self._times.measure("manifest"):
            self._store.mark_filed(self._filed, now)
            refresh_manifest(self._store, self._corpus, changed=bool(self._filed))
            self._filed.clear()

    def next_number(self) -> int:
        """The number to try for the next file; the store moves past a taken one.

        The folder is scanned once per pass: a file the user adds during a pass is
        counted from the next one (exclusive creation keeps the two from colliding).
        A process that writes no files (a queue worker) asks the database instead, where
        other workers' numbers are."""
        if not self.write_files:
            self._raise_floor(self._store.highest_file_number())
        with self._lock:
            self._floor += 1
            return self._floor

    def number_taken(self) -> None:
        """Another writer stored an article under the number proposed: propose numbers
        above the database's highest from now on."""
        self._raise_floor(self._store.highest_file_number())

    def write(self, filing: Filing) -> None:
        """Write the file the store named; if the name is taken (a file the user put there
        meanwhile), take the next number."""
        item_id, item, name = filing.item_id, filing.item, filing.name
        content = render(item.title, item.text)
        for _attempt in range(_ATTEMPTS):
            try:
                write_exclusive(self._corpus, name, content)
            except FileExistsError:
                self._raise_floor(highest_number(self._corpus))
                number, name = self._store.allocate_file(item_id, item.key, floor=self._floor)
                self._raise_floor(number)
                continue
            self._raise_floor(int(name.split("_", 1)[0]))
            self._filed.append(item_id)
            log.info("entry_filed", extra={"url": item.url, "file": name})
            return
        raise RuntimeError(f"could not find a free corpus file name for {item.url}")

    def _raise_floor(self, number: int) -> None:
        with self._lock:
            self._floor = max(self._floor, number)
