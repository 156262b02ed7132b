"""The write lock is a fact (issue 21: 4): a duplicates check computes without it and
persists what it made under it; while another process holds it nothing of the check is
written; a read-only library computes the same answer, writes nothing and says so."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

import faultkit
from photofinder.cli import main
from photofinder.library import Library
from samples import sample_images

MOUNT = faultkit.mount_problem()

# a second photofinder process that holds the library's write lock until its stdin closes
HOLDER = """
import sys
from photofinder.library import Library
with Library(sys.argv[1]) as lib, lib.writer.held():
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture(autouse=True)
def private_trash(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # never the real trash


@pytest.fixture
def unchecked_lib(tmp_path, model):
    """Two byte-identical copies and another photo, indexed, never checked for duplicates."""
    photos = tmp_path / "photos"
    photos.mkdir()
    imgs = sample_images()
    imgs["coffee"].save(photos / "coffee.jpg", quality=90)
    shutil.copy(photos / "coffee.jpg", photos / "coffee-copy.jpg")
    imgs["chelsea"].save(photos / "chelsea.jpg", quality=90)
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(photos)
        lib.update(duplicates=False)
        assert lib.stored_duplicates() is None
    return tmp_path / "lib", photos


def _dedup_rows(lib_path) -> dict[str, int]:
    """What the check stores, counted through a connection of its own."""
    import sqlite3
    conn = sqlite3.connect(f"file:{lib_path / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("dedup_pairs", "dedup_searched", "dedup_results")}
    finally:
        conn.close()


def test_a_check_beside_another_writer_computes_and_stores_only_under_the_lock(unchecked_lib):
    lib_path, photos = unchecked_lib
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(lib_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with Library(lib_path) as lib:
            lib.duplicates.persist_wait = 0.5  # (how long a finished check waits to store)
            found = lib.find_duplicates()
            # the answer, computed while the other process held the lock ...
            assert [sorted(os.path.basename(m.path) for m in g.members) for g in found.groups] \
                == [["coffee-copy.jpg", "coffee.jpg"]]
            # ... and nothing of it written: the lock was never the check's
            assert "another photofinder process" in (lib.duplicates_unsaved or "")
            assert _dedup_rows(lib_path) == {"dedup_pairs": 0, "dedup_searched": 0,
                                             "dedup_results": 0}
            assert lib.stored_duplicates() is None
    finally:
        if holder.stdin is not None:
            holder.stdin.close()
        holder.wait(timeout=60)
    assert holder.returncode == 0
    with Library(lib_path) as lib:  # the lock free: the same check, stored this time
        again = lib.find_duplicates()
        assert lib.duplicates_unsaved is None
        assert [g.keep for g in again.groups] == [g.keep for g in found.groups]
        stored = lib.stored_duplicates()
        assert stored is not None and len(stored.groups) == 1
    rows = _dedup_rows(lib_path)
    assert rows["dedup_searched"] == 2 and rows["dedup_results"] == 1  # 2 contents


def _digest(folder) -> dict[str, str]:
    return {p: hashlib.sha256(open(os.path.join(folder, p), "rb").read()).hexdigest()
            for p in sorted(os.listdir(folder)) if os.path.isfile(os.path.join(folder, p))}


@pytest.mark.skipif(MOUNT is not None and os.geteuid() == 0,
                    reason=f"root ignores folder permissions and {MOUNT}")
def test_a_read_only_library_finds_duplicates_stores_nothing_and_says_so(unchecked_lib, capsys,
                                                                        tmp_path):
    lib_path, photos = unchecked_lib
    if MOUNT is None:  # a read-only drive: a tmpfs remounted read-only
        drive = tmp_path / "drive"
        drive.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(drive)], check=True)
        subprocess.run(["cp", "-a", str(lib_path), str(drive / "lib")], check=True)
        subprocess.run(["mount", "-o", "remount,ro", str(drive)], check=True)
        lib_path = drive / "lib"
    else:
        os.chmod(lib_path, 0o555)
    try:
        before = _digest(lib_path)
        code = main(["--library", str(lib_path), "duplicates", "--json"])
        out = capsys.readouterr()
        assert code == 0, out.err
        groups = json.loads(out.out)["groups"]
        assert [sorted(os.path.basename(m["path"]) for m in g["members"]) for g in groups] \
            == [["coffee-copy.jpg", "coffee.jpg"]]
        said = out.err.strip().splitlines()
        assert len(said) == 1 and "read-only" in said[0] and "not stored" in said[0], out.err
        assert _digest(lib_path) == before  # not a byte written
        with Library(lib_path) as ro:
            assert ro.read_only
            assert len(ro.find_duplicates().groups) == 1 and ro.stored_duplicates() is None
            assert "read-only" in (ro.duplicates_unsaved or "")
    finally:
        if MOUNT is None:
            subprocess.run(["umount", str(drive)], check=True)
        else:
            os.chmod(lib_path, 0o755)
