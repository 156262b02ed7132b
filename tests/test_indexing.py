"""Incremental scans, moves, offline folders, watching, crash safety and the writer lock."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import dbutil
from PIL import Image

from samples import sample_images
from photofinder.work.indexer import BATCH
from photofinder.library import Library, LibraryBusy


def label_of(lib, path):
    row = lib.catalog.photos.by_path(str(path))
    emb = lib.catalog.embeddings.of_photo(row.id, lib.embedder.model_id)
    return row.id, emb.label if emb else None


@pytest.fixture
def folder(tmp_path, photo_set):
    d = tmp_path / "photos"
    shutil.copytree(photo_set / "originals", d)
    return d


def test_rescan_of_unchanged_library_embeds_nothing(library, folder):
    library.add_folder(folder)
    library.update()
    report, prog = library.update()
    assert report.unchanged == 10 and report.new == report.changed == report.deleted == 0
    assert prog.done == 0


def test_changed_moved_deleted_files(library, folder):
    library.add_folder(folder)
    library.update()
    coffee_id, coffee_label = label_of(library, folder / "coffee.jpg")
    rocket_id, rocket_label = label_of(library, folder / "rocket.jpg")

    (folder / "sub").mkdir()
    os.rename(folder / "coffee.jpg", folder / "sub" / "renamed coffee.jpg")  # move + rename
    img = Image.open(folder / "rocket.jpg").transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    img.save(folder / "rocket.jpg", quality=80)  # changed content
    os.unlink(folder / "camera.jpg")  # deleted
    report, prog = library.update()

    assert (report.moved, report.changed, report.deleted) == (1, 1, 1)
    assert prog.done == 1  # only the changed file is embedded again
    moved_id, moved_label = label_of(library, folder / "sub" / "renamed coffee.jpg")
    assert (moved_id, moved_label) == (coffee_id, coffee_label)  # kept its embedding
    new_id, new_label = label_of(library, folder / "rocket.jpg")
    assert new_id == rocket_id and new_label != rocket_label
    assert rocket_label not in library.space.index.live and new_label in library.space.index.live
    assert library.catalog.photos.by_path(str(folder / "camera.jpg")) is None
    assert library.catalog.photos.counts()["indexed"] == 9 == len(library.space.index)


def test_unplugged_folder_goes_offline_and_stays_searchable(tmp_path, library, folder, photo_set):
    library.add_folder(folder)
    library.update()
    away = tmp_path / "unplugged"
    os.rename(folder, away)
    report, _ = library.update()
    assert report.offline == [str(folder)] and report.deleted == 0
    assert [(f.path, f.online, f.photos) for f in library.status().folders] == [(str(folder), False, 10)]
    got = library.similar(photo_set / "edited" / "astronaut-cropped.jpg", top=1)
    assert got[0].path == str(folder / "astronaut.jpg")
    os.rename(away, folder)
    report, prog = library.update()
    assert report.unchanged == 10 and prog.done == 0
    assert library.status().folders[0].online is True


def test_a_second_writer_gets_a_clear_message(tmp_path, folder, model):
    lib = Library(tmp_path / "lib")
    lib.add_folder(folder)
    other = Library(tmp_path / "lib")
    with lib.writer.held():  # a write in progress: the lock is taken for each write
        with pytest.raises(LibraryBusy):
            other.scan()
        p = subprocess.run([sys.executable, "-m", "photofinder", "--library",
                            str(tmp_path / "lib"), "scan"], capture_output=True, text=True,
                           timeout=120)
        assert p.returncode == 1
        assert "another photofinder process" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert other.scan().new == 10  # the write over, the other writes
    other.close()
    lib.close()


def make_many(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    imgs = list(sample_images().values())
    for i in range(n):
        img = imgs[i % len(imgs)].rotate(i * 7 % 360, expand=False).resize((480, 360))
        img.save(folder / f"img{i:04d}.jpg", quality=85)


def test_kill_9_mid_run_then_resume(tmp_path, model):
    folder = tmp_path / "many"
    make_many(folder, 400)
    lib_dir = tmp_path / "lib"
    proc = subprocess.Popen([sys.executable, "-m", "photofinder", "--library", str(lib_dir),
                             "add", str(folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db = lib_dir / "catalog.sqlite"
    deadline = time.monotonic() + 300
    committed = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=5) as c:
                    committed = c.execute("SELECT count(*) FROM photos WHERE status='indexed'").fetchone()[0]
            except sqlite3.OperationalError:
                committed = 0
            if committed >= 48:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "indexing finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    lib = Library(lib_dir)
    before = {r["id"]: r["indexed_at"] for r in
              dbutil.rows(lib, "SELECT id, indexed_at FROM photos WHERE status='indexed'")}
    assert len(before) >= 48
    assert len(lib.space.index) == len(before)  # index consistent with the catalogue on open
    report, prog = lib.update()
    assert prog.done == 400 - len(before)  # nothing committed is embedded again
    after = {r["id"]: r["indexed_at"] for r in dbutil.rows(lib, "SELECT id, indexed_at FROM photos")}
    assert all(after[k] == v for k, v in before.items())
    assert lib.catalog.photos.counts() == {"pending": 0, "indexed": 400, "failed": 0}
    assert len(lib.space.index) == 400
    assert dbutil.rows(lib, "PRAGMA integrity_check")[0]["integrity_check"] == "ok"
    lib.close()


def wait_for(cond, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return False


def test_watch_picks_up_new_changed_moved_deleted_and_slow_files(tmp_path, folder, model):
    lib_dir = tmp_path / "lib"
    writer = Library(lib_dir)
    writer.add_folder(folder)
    stop = threading.Event()
    messages = []
    t = threading.Thread(target=writer.watch, args=(messages.append,),
                         kwargs={"settle": 1.0, "stop": stop}, daemon=True)
    t.start()
    reader = Library(lib_dir)

    def indexed_paths():
        return {r["path"] for r in dbutil.rows(reader, "SELECT path FROM photos WHERE status='indexed'")}

    try:
        assert wait_for(lambda: len(indexed_paths()) == 10)
        # a burst of new files
        src = Image.open(folder / "chelsea.jpg")
        for i in range(5):
            src.resize((200 + i * 10, 150 + i * 7)).save(folder / f"new{i}.jpg")
        assert wait_for(lambda: len(indexed_paths()) == 15), messages
        # moved, deleted
        os.rename(folder / "new0.jpg", folder / "moved.jpg")
        os.unlink(folder / "new1.jpg")
        assert wait_for(lambda: indexed_paths() >= {str(folder / "moved.jpg")}
                        and str(folder / "new1.jpg") not in indexed_paths()
                        and str(folder / "new0.jpg") not in indexed_paths())
        # a file written slowly: never recorded as a failure
        data = (folder / "coffee.jpg").read_bytes()
        with open(folder / "slow.jpg", "wb") as f:
            f.write(data[: len(data) // 3])
            f.flush()
            time.sleep(1.5)
            f.write(data[len(data) // 3:])
        assert wait_for(lambda: str(folder / "slow.jpg") in indexed_paths())
        assert reader.catalog.photos.counts()["failed"] == 0
        # the search sees what the watcher indexed
        reader.space.refresh()
        got = reader.similar(folder / "coffee.jpg", top=1)
        assert got[0].path == str(folder / "slow.jpg") and got[0].score > 0.99
    finally:
        stop.set()
        t.join(timeout=60)
        reader.close()
        writer.close()


def test_vanished_between_scan_and_decode(library, folder):
    library.add_folder(folder)
    library.scan()
    os.unlink(folder / "coins.jpg")
    prog = library.index_pending()
    assert prog.failed == 0
    assert library.catalog.photos.by_path(str(folder / "coins.jpg")) is None
    assert library.catalog.photos.counts() == {"pending": 0, "indexed": 9, "failed": 0}


def test_pause_resume_and_cancel(tmp_path, model):
    folder = tmp_path / "many"
    make_many(folder, 120)
    lib = Library(tmp_path / "lib")
    lib.add_folder(folder)
    lib.scan()
    seen = []
    paused = threading.Event()

    def progress(p):
        seen.append(p.done)
        if len(seen) == 1:
            lib.pause_indexing()
            paused.set()

    t = threading.Thread(target=lambda: seen.append(("result", lib.index_pending(progress))))
    t.start()
    assert paused.wait(120)
    time.sleep(1.0)
    assert seen == [BATCH]  # one batch committed, then nothing moves while paused
    lib.resume_indexing()
    while len(seen) < 3:
        time.sleep(0.05)
    lib.cancel_indexing()
    t.join(120)
    final = seen[-1][1]
    assert final.done < 120
    counts = lib.catalog.photos.counts()
    assert counts["indexed"] == final.done and counts["pending"] == 120 - final.done
    assert len(lib.space.index) == final.done
    prog = lib.index_pending()  # resumes with what is left
    assert prog.done == 120 - final.done
    lib.close()


def test_hard_links_and_symlinks_are_one_photo(library, tmp_path, photo_set):
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir()
    b.mkdir()
    shutil.copy(photo_set / "originals" / "coffee.jpg", a / "coffee.jpg")
    os.link(a / "coffee.jpg", a / "hardlink.jpg")
    os.symlink(a / "coffee.jpg", b / "symlink.jpg")
    os.symlink(a, b / "loop")  # a folder symlink: not followed
    library.add_folder(a)
    library.add_folder(b)
    library.update()
    assert library.catalog.photos.counts()["indexed"] == 1
    assert sum(f.photos for f in library.status().folders) == 1


def test_a_new_hard_link_in_an_earlier_folder_is_not_a_move(library, tmp_path, photo_set):
    z = tmp_path / "z-first-added"
    a = tmp_path / "a-added-later"
    z.mkdir()
    a.mkdir()
    shutil.copy(photo_set / "originals" / "rocket.jpg", z / "rocket.jpg")
    library.add_folder(z)
    library.update()
    photo_id, label = label_of(library, z / "rocket.jpg")
    os.link(z / "rocket.jpg", a / "link.jpg")  # walked first: a-... sorts before z-...
    library.add_folder(a)
    report, prog = library.update()
    assert report.moved == 0 and report.new == 0 and report.deleted == 0 and prog.done == 0
    assert label_of(library, z / "rocket.jpg") == (photo_id, label)
