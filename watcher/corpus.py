"""The corpus folder: the user's seed files and the files watcher adds beside them.

File names are ``NNN_<16 hex>.txt`` (DESIGN.md): the running number is max + 1 over the
folder (gaps are never filled) and is allocated under the database's unique key; the
hex is the first 16 digits of SHA-256 of the article's canonical URL, frozen when the
file is written. A file is created exclusively (written aside, then hard-linked into
place, which fails rather than replace anything) and the manifest is replaced
atomically, so a reader never sees half a file and a crash never leaves one.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from watcher.dedup.urls import paragraph_hashes, text_hash
from watcher.store import Store

__all__ = [
    "FILE_NAME",
    "CorpusFile",
    "highest_number",
    "refresh_manifest",
    "render",
    "scan",
    "sync_corpus",
    "write_atomically",
    "write_exclusive",
    "write_manifest",
    "write_unwritten",
]

log = logging.getLogger(__name__)

FILE_NAME = re.compile(r"^(\d{3,})_([0-9a-f]{16})\.txt$")
MANIFEST = "manifest.jsonl"
_TEMPORARY = ".tmp-"  # prefix of files being written; a killed writer may leave one


@dataclass(frozen=True, slots=True)
class CorpusFile:
    name: str
    number: int
    key: str
    text: str


def scan(folder: Path) -> list[CorpusFile]:
    """Every corpus file in the folder, read as it is (UTF-8, undecodable bytes replaced)."""
    found: list[CorpusFile] = []
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        match = FILE_NAME.match(path.name)
        if match and path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace")
            found.append(CorpusFile(path.name, int(match.group(1)), match.group(2), text))
    return found


def highest_number(folder: Path) -> int:
    numbers = [int(m.group(1)) for p in _names(folder) if (m := FILE_NAME.match(p))]
    return max(numbers, default=-1)


def _names(folder: Path) -> Iterable[str]:
    return (entry.name for entry in os.scandir(folder)) if folder.is_dir() else ()


def render(title: str | None, text: str) -> str:
    """Title on the first line, then one paragraph per line."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    body = [line for line in lines if line]
    head = " ".join((title or "").split()) or (body[0] if body else "")
    if body and head == body[0] and not title:
        body = body[1:]
    return "\n".join([head, *body]) + "\n"


def write_exclusive(folder: Path, name: str, content: str) -> None:
    """Create ``folder/name`` with ``content``; FileExistsError if it exists already
    (and only then: a corpus path that is not a folder raises NotADirectoryError)."""
    _ensure_folder(folder)
    fd, temporary = tempfile.mkstemp(prefix=_TEMPORARY, suffix=".txt", dir=folder)
    try:
        os.fchmod(fd, new_file_mode())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, folder / name)  # atomic, and never replaces an existing file
    finally:
        os.unlink(temporary)


def write_manifest(folder: Path, rows: list[dict[str, Any]]) -> None:
    _ensure_folder(folder)
    lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    write_atomically(folder / MANIFEST, lines)


def refresh_manifest(store: Store, folder: Path, *, changed: bool) -> bool:
    """Regenerate the manifest unless nothing it lists can have changed since this store
    last wrote it (``changed``: the caller filed something). A daemon's pass that finds
    no new article then costs nothing here, where a whole rewrite reads every filed item
    (0.6 s with 20,000 files) and rewrites and syncs the file, which a folder kept
    in sync elsewhere would upload again each time. Returns whether it wrote."""
    signature = store.manifest_signature()  # before the rows: a change between is seen next time
    if not changed and signature == store.manifest_written and (folder / MANIFEST).is_file():
        return False
    write_manifest(folder, store.manifest_rows())
    store.manifest_written = signature
    return True


def write_atomically(path: Path, content: str) -> None:
    """Replace ``path`` with ``content``: a reader sees the old file or the new one,
    never half of one, whenever the writer is killed. The file keeps the mode it had;
    a new one gets the mode the umask gives."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = new_file_mode()
    fd, temporary = tempfile.mkstemp(prefix=_TEMPORARY, suffix=path.suffix, dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def new_file_mode() -> int:
    """The mode ``open()`` would give a new file under this process's umask (0644 under
    the usual 022). ``mkstemp`` makes its files 0600 whatever the umask, so files
    renamed from it into the corpus folder would be unreadable to the analysts' group.
    The group itself comes from the folder when it is set-group-ID, as for any file."""
    umask = _read_umask()
    return 0o666 & ~umask


def _read_umask() -> int:
    try:  # Linux says it without changing it (a set-and-restore races with threads)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def _ensure_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        # mkdir says "exists" for a file in the folder's place; callers read
        # FileExistsError as "this file name is taken", so say what it really is.
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder)) from None


def sync_corpus(store: Store, folder: Path, now: datetime) -> None:
    """Bring the database and the folder into agreement at start-up.

    New files (the seeds, or files the user added) are fingerprinted so that an article
    found again counts as known; edited files are re-fingerprinted; deleted files leave
    the manifest but stay known; files that a crash kept from being written are written;
    the manifest is regenerated. Temporary files a killed writer left are removed
    (the caller holds the folder's pass lock: no writer is running).
    """
    _ensure_folder(folder)
    for leftover in folder.glob(f"{_TEMPORARY}*"):
        leftover.unlink(missing_ok=True)
        log.info("corpus_temporary_removed", extra={"file": leftover.name})
    known = store.corpus_files()
    on_disk = scan(folder)
    for corpus_file in on_disk:
        _sync_file(store, corpus_file, known.get(corpus_file.name))
    present = {f.name for f in on_disk}
    present.update(write_unwritten(store, folder, now))
    store.set_files_missing(
        {
            item_id: name not in present
            for name, (item_id, _hash, _seed, missing) in known.items()
            if missing != (name not in present)
        }
    )
    refresh_manifest(store, folder, changed=True)  # an edited seed changes no signature


def write_unwritten(store: Store, folder: Path, now: datetime) -> list[str]:
    """Write the files that stored items are named for but that no one wrote: after a
    crash between commit and write, and, in a queue deployment, every file (workers
    store articles; the scheduler, which owns the folder, writes them). A file found
    already there was written before a crash and only lacks its mark."""
    unwritten = store.unwritten_files()
    for _item_id, name, title, text in unwritten:
        try:
            write_exclusive(folder, name, render(title, text))
        except FileExistsError:
            continue
        log.info("corpus_file_written", extra={"file": name})
    store.mark_filed([item_id for item_id, *_rest in unwritten], now)
    return [name for _item_id, name, *_rest in unwritten]


def _sync_file(
    store: Store, corpus_file: CorpusFile, known: tuple[int, str, bool, bool] | None
) -> None:
    if known is None:
        hashes = paragraph_hashes(corpus_file.text)
        added = store.add_seed(
            corpus_file.name, corpus_file.number, corpus_file.key, corpus_file.text, hashes
        )
        if added is None:
            log.warning("corpus_file_repeats_a_key", extra={"file": corpus_file.name})
        else:
            log.info("corpus_file_added", extra={"file": corpus_file.name})
    elif known[2] and known[1] != text_hash(corpus_file.text):
        store.update_seed_text(known[0], corpus_file.text, paragraph_hashes(corpus_file.text))
        log.info("corpus_file_changed", extra={"file": corpus_file.name})
