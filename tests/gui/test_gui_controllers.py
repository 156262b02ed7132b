"""The window's controllers (issue 21: 7): each question to the reader carries its own reply,
so an answer reaches whoever asked, whatever else is in flight; and a read-only library says
in the status bar that its duplicates were found but not stored (issue 21: 4)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess

import pytest

import faultkit
from photofinder.library import Library

MOUNT = faultkit.mount_problem()


@pytest.fixture
def three(tmp_path, photo_set):
    """coffee, its resized copy and rocket, in a folder of their own."""
    folder = tmp_path / "three"
    folder.mkdir()
    for name in ("originals/coffee.jpg", "edited/coffee-resized.jpg", "originals/rocket.jpg"):
        shutil.copy(photo_set / name, folder)
    return folder


def _barrier(w, qtbot):
    """Every request asked before this one is answered (the reader answers in turn)."""
    done = []
    w.ask(lambda _lib: None, reply=done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=60_000)


def test_answers_reach_their_own_askers_in_either_order(make_window, wait_indexed, qtbot,
                                                        three):
    w = make_window()
    w.add_folder(str(three))
    wait_indexed(w, 3)
    coffee, copy, rocket = (str(three / n) for n in
                            ("coffee.jpg", "coffee-resized.jpg", "rocket.jpg"))

    def count(lib):
        return ("count", len(lib.listing()))

    def echo(_lib, x):
        return ("echo", x)

    for order in ("ab", "ba"):  # two requests in flight at once, asked in either order
        got: dict = {}
        for which in order:
            if which == "a":
                w.ask(count, reply=lambda r: got.setdefault("count", r))
            else:
                w.ask(echo, order, reply=lambda r: got.setdefault("echo", r))
        qtbot.waitUntil(lambda: len(got) == 2, timeout=60_000)
        assert got == {"count": ("count", 3), "echo": ("echo", order)}

    # two controllers at once: the preview's tags (the word search's) and the map's check
    # for duplicates among a selection; each answer lands in its own widget
    w.preview.show_path(coffee)
    w.map.duplicates_among([coffee, copy, rocket])
    d = w.duplicates
    qtbot.waitUntil(lambda: bool(d.groups), timeout=120_000)
    assert [sorted(os.path.basename(m.path) for m in g.members) for g in d.groups] == \
        [["coffee-resized.jpg", "coffee.jpg"]]
    qtbot.waitUntil(lambda: w.preview.tags.text().startswith("Shows: "), timeout=60_000)
    w.preview.close()

    # a Find similar, then at once a word search: the newer search's answer is the one shown
    # (the older one, answered first, is stale and dropped), and only a Find similar's answer
    # offers "Narrow by words"
    w.search(coffee)
    w.words.search("coffee")
    _barrier(w, qtbot)
    assert w.results.title.text() == "Photos that show “coffee”"
    assert w.results.model.matches
    assert not w.words.narrow_box.isVisibleTo(w)
    w.search(rocket)
    _barrier(w, qtbot)
    assert w.results.query == rocket and w.words.narrow_box.isVisibleTo(w)


def _digest(folder) -> dict[str, str]:
    return {p: hashlib.sha256(open(os.path.join(folder, p), "rb").read()).hexdigest()
            for p in sorted(os.listdir(folder)) if os.path.isfile(os.path.join(folder, p))}


@pytest.mark.skipif(MOUNT is not None, reason=MOUNT or "")
def test_a_read_only_library_says_in_the_status_bar_its_duplicates_were_not_stored(
        make_window, qtbot, tmp_path, three, model):
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(three)
        lib.update(duplicates=False)
        assert lib.stored_duplicates() is None
    drive = tmp_path / "drive"  # a read-only drive: a tmpfs remounted read-only
    drive.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(drive)], check=True)
    try:
        subprocess.run(["cp", "-a", str(tmp_path / "lib"), str(drive / "lib")], check=True)
        subprocess.run(["mount", "-o", "remount,ro", str(drive)], check=True)
        lib_path = drive / "lib"
        before = _digest(lib_path)
        w = make_window(library=lib_path)
        said: list[str] = []
        w.statusBar().messageChanged.connect(said.append)
        qtbot.waitUntil(lambda: w.status is not None, timeout=60_000)
        w.show_duplicates()
        d = w.duplicates
        qtbot.waitUntil(lambda: not d.checking and bool(d.groups), timeout=120_000)
        assert [sorted(os.path.basename(m.path) for m in g.members) for g in d.groups] == \
            [["coffee-resized.jpg", "coffee.jpg"]]
        notes = [m for m in said if "not stored" in m]
        assert len(notes) == 1 and "read-only" in notes[0] and "\n" not in notes[0], said
        w.close()
        assert _digest(lib_path) == before  # not a byte written
    finally:
        subprocess.run(["umount", "-l", str(drive)], check=False)
