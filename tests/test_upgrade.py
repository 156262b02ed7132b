"""A library made by the released photofinder 0.1.0 opens, migrates and keeps everything:
no photo re-embedded (while the model is the same), decisions and searches intact."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

import dbutil
from photofinder.assets import demo_originals
from photofinder.library import Library
from photofinder.store.catalog import SCHEMA_VERSION

DUMP = Path(__file__).parent / "data" / "library-0.1.0.sql"


@pytest.fixture
def old_library(tmp_path):
    """The 0.1.0 catalogue over the same photo files (same bytes, same mtimes)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    demo = {p.name: p for p in demo_originals()}
    for name in ("astronaut.jpg", "chelsea.jpg", "coffee.jpg"):
        shutil.copyfile(demo[name], photos / name)
    shutil.copyfile(demo["coffee.jpg"], photos / "coffee-copy.jpg")
    lib_dir = tmp_path / "lib"
    lib_dir.mkdir()
    conn = sqlite3.connect(lib_dir / "catalog.sqlite")
    conn.executescript(DUMP.read_text().replace("@ROOT@", str(photos)))
    rows = conn.execute("SELECT path, mtime_ns, size FROM photos").fetchall()
    conn.close()
    for path, mtime_ns, size in rows:
        assert Path(path).stat().st_size == size  # the very bytes 0.1.0 indexed
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return lib_dir, photos


def test_a_library_of_release_0_1_0_opens_and_migrates_without_reindexing(old_library, model):
    lib_dir, photos = old_library
    before = {r["path"]: (r["indexed_at"], r["model"]) for r in dbutil.rows(
        lib_dir, "SELECT p.path, p.indexed_at, e.model FROM photos p JOIN embeddings e ON e.photo_id=p.id")}
    assert dbutil.rows(lib_dir, "SELECT value FROM meta WHERE key='schema_version'")[0]["value"] == "2"
    with Library(lib_dir) as lib:
        assert lib.catalog.get_meta("schema_version") == str(SCHEMA_VERSION)
        report = lib.scan()
        assert (report.new, report.changed, report.moved, report.deleted) == (0, 0, 0, 0)
        same_model = {p for p, (_, m) in before.items() if m == lib.embedder.model_id}
        lib.index_pending()
        after = {r["path"]: r["indexed_at"] for r in dbutil.rows(lib, "SELECT path, indexed_at FROM photos")}
        assert set(after) == set(before)
        for p in same_model:  # nothing embedded again
            assert after[p] == before[p][0]
        assert lib.counts() == {"indexed": 4, "pending": 0, "failed": 0}
        top = lib.similar(photos / "coffee.jpg", top=3)
        assert top[0].path == str(photos / "coffee-copy.jpg") and top[0].score > 0.99
        decisions = dbutil.rows(lib, "SELECT hash_a, hash_b FROM decisions")
        assert len(decisions) == 1  # "astronaut and chelsea are not duplicates" is kept
        groups = lib.duplicates()
        assert [sorted(Path(m.path).name for m in g.members) for g in groups] == \
            [["coffee-copy.jpg", "coffee.jpg"]]
