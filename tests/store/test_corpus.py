"""The corpus folder: exclusive files, the manifest, and start-up reconciliation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import manifest_rows, text_item
from watcher.corpus import FILE_NAME, highest_number, render, scan, sync_corpus, write_exclusive
from watcher.store import Store

NOW = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)


_FIRST_APPEARED = "This article first appeared at The Interpreter, published by the Lowy Institute."


def _original(store: Store, text: str) -> int | None:
    return store.find_original([], store.dedup.fingerprint(text))


def _seed_id(store: Store, name: str) -> int:
    return store.corpus_files()[name][0]


def test_render_puts_the_title_first_and_one_paragraph_per_line() -> None:
    assert render("Title  here", "First para.\n\n  Second   para. \n") == (
        "Title here\nFirst para.\nSecond para.\n"
    )


def test_write_exclusive_never_replaces(tmp_path: Path) -> None:
    write_exclusive(tmp_path, "005_0123456789abcdef.txt", "one\n")
    with pytest.raises(FileExistsError):
        write_exclusive(tmp_path, "005_0123456789abcdef.txt", "two\n")
    assert (tmp_path / "005_0123456789abcdef.txt").read_text() == "one\n"
    assert [p.name for p in tmp_path.iterdir()] == ["005_0123456789abcdef.txt"], "no temp left"


def test_seeds_are_scanned_as_they_are(seed_corpus: Path) -> None:
    files = scan(seed_corpus)
    assert [f.number for f in files] == [0, 1, 2, 3, 4]
    assert all(FILE_NAME.match(f.name) for f in files)
    assert highest_number(seed_corpus) == 4


def test_sync_fingerprints_seeds_and_writes_the_manifest(seed_corpus: Path, store: Store) -> None:
    sync_corpus(store, seed_corpus, NOW)
    rows = manifest_rows(seed_corpus)
    assert [r["file"] for r in rows] == sorted(p.name for p in seed_corpus.glob("*.txt"))
    assert all(r["url"] is None and r["relevant"] is True for r in rows)
    seed = sorted(seed_corpus.glob("*.txt"))[3]
    lines = seed.read_text(encoding="utf-8").splitlines()
    # The same article on another site: no title line, a masthead, a syndication note.
    copy = "\n".join(["Asia Policy Review | Home | Subscribe", *lines[1:], _FIRST_APPEARED])
    assert _original(store, copy) == _seed_id(store, seed.name)


def test_sync_follows_user_edits_and_deletions(seed_corpus: Path, store: Store) -> None:
    sync_corpus(store, seed_corpus, NOW)
    first, second = sorted(seed_corpus.glob("*.txt"))[:2]
    new_paragraph = "An added paragraph the user wrote into the seed file by hand today."
    first.write_text(
        first.read_text(encoding="utf-8") + "\n" + new_paragraph + "\n", encoding="utf-8"
    )
    kept = second.read_text(encoding="utf-8")
    second.unlink()
    sync_corpus(store, seed_corpus, NOW)
    assert second.name not in [r["file"] for r in manifest_rows(seed_corpus)]
    edited = first.read_text(encoding="utf-8")
    assert _original(store, edited + _FIRST_APPEARED) == _seed_id(store, first.name)

    second.write_text(kept, encoding="utf-8")  # put back: listed again, only its flag written
    sync_corpus(store, seed_corpus, NOW)
    assert second.name in [r["file"] for r in manifest_rows(seed_corpus)]


def test_sync_writes_a_file_a_crash_left_unwritten(tmp_path: Path, store: Store) -> None:
    """Killed between allocating a number and writing: the next start writes the file."""
    folder = tmp_path / "corpus"
    text = "A paragraph long enough to count as one for the fingerprints here.\nSecond line."
    item = text_item("https://x.example/a", text, title="Title", labels=("inter-korean",))
    item_id = store.add_item(item)
    _number, name = store.allocate_file(item_id, item.key, floor=-1)
    assert name == f"000_{item.key}.txt"
    sync_corpus(store, folder, NOW)
    assert (folder / name).read_text() == "Title\n" + text + "\n"
    assert [r["file"] for r in manifest_rows(folder)] == [name]


def test_file_numbers_are_unique_under_the_database_key(store: Store) -> None:
    ids = [store.add_item(text_item(f"https://x.example/{i}", f"text {i}")) for i in range(5)]
    numbers = [
        store.allocate_file(item_id, f"{n:016x}", floor=9)[0] for n, item_id in enumerate(ids)
    ]
    assert numbers == [10, 11, 12, 13, 14]


def test_a_file_in_the_folders_place_is_not_a_taken_name(tmp_path: Path) -> None:
    """FileExistsError means "this name is taken" (callers then take the next number);
    a corpus path that is a file must say so instead."""
    corpus = tmp_path / "corpus"
    corpus.write_text("a file")
    with pytest.raises(NotADirectoryError):
        write_exclusive(corpus, "005_0123456789abcdef.txt", "x\n")


def test_sync_removes_a_temporary_file_a_killed_writer_left(
    seed_corpus: Path, store: Store
) -> None:
    leftover = seed_corpus / ".tmp-abc123.txt"
    leftover.write_text("half an article", encoding="utf-8")
    sync_corpus(store, seed_corpus, NOW)
    assert not leftover.exists()
    assert len(list(seed_corpus.glob("*.txt"))) == 5, "the seeds untouched"


def test_a_copied_corpus_file_and_a_repeated_number_do_not_stop_start_up(
    seed_corpus: Path, store: Store
) -> None:
    """The user copies a corpus file under another number (same key), and adds a file
    whose number another file has: start-up goes on, the copy is left alone (the
    article is known once), the other file is fingerprinted outside the numbering."""
    sync_corpus(store, seed_corpus, NOW)
    first = sorted(seed_corpus.glob("0*.txt"))[0]
    key = first.name.split("_", 1)[1]
    copy = seed_corpus / f"900_{key}"
    copy.write_text(first.read_text(encoding="utf-8"), encoding="utf-8")
    clash = seed_corpus / f"{first.name[:3]}_00000000000000aa.txt"
    clash.write_text("A user's own note on the inter-Korean hotline, filed by hand.\n" * 5)

    sync_corpus(store, seed_corpus, NOW)

    files = store.corpus_files()
    assert copy.name not in files, "a second item for one article would break the key"
    assert clash.name in files
    assert clash.name in [row["file"] for row in manifest_rows(seed_corpus)]
    assert highest_number(seed_corpus) == 900, "the folder's numbers still count"
