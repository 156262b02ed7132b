"""Duplicates review and trash/undo from the GUI, on real copies, with a private trash."""

from __future__ import annotations

import os
import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox


@pytest.fixture
def answers(monkeypatch):
    """Dialogs answer Yes; what they said is kept for the test to read."""
    said = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *a, **k: said.append(a[2]) or QMessageBox.StandardButton.Yes))
    monkeypatch.setattr(QMessageBox, "information", staticmethod(
        lambda *a, **k: said.append(a[2]) or QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(
        lambda *a, **k: said.append(a[2]) or QMessageBox.StandardButton.Ok))
    return said


@pytest.fixture
def copies(tmp_path, photo_set, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # a private system trash
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("coffee.jpg", "camera.jpg"):
        shutil.copy(photo_set / "originals" / name, folder / name)
    for kind in ("resized", "recompressed"):
        shutil.copy(photo_set / "edited" / f"coffee-{kind}.jpg", folder)
    return folder


def test_duplicates_view_groups_copies_and_trashes_with_undo(make_window, wait_indexed, qtbot,
                                                             copies, answers, tmp_path):
    w = make_window()
    w.add_folder(str(copies))
    wait_indexed(w, 4)
    w.show_duplicates()
    d = w.duplicates
    qtbot.waitUntil(lambda: len(d.groups) == 1, timeout=60_000)
    group = d.groups[0]
    names = {os.path.basename(m.path) for m in group.members}
    assert names == {"coffee.jpg", "coffee-resized.jpg", "coffee-recompressed.jpg"}
    assert d.cards[0].objectName() == "keeper" and d.cards[0].path == group.keep
    assert "Keeping" in d.group_title.text()
    # the keeper's reason whole, one clause a line, never cut mid-sentence (issue 23: 4)
    from PySide6.QtWidgets import QLabel

    keep = next(m for m in group.members if m.path == group.keep)
    clauses = keep.reasons[0].removeprefix("keep: ").split("; ")

    def whole() -> bool:  # (the cards are made again when an answer comes: look each time)
        why = next(lab for lab in d.cards[0].findChildren(QLabel)
                   if lab.toolTip().startswith("keep: "))
        return all(c[1:] in why.text() for c in clauses) and \
            why.height() >= why.heightForWidth(why.width())

    assert len(clauses) >= 2
    qtbot.waitUntil(whole, timeout=5000)
    qtbot.waitUntil(lambda: not d.compare_view.views[1].item.pixmap().isNull(), timeout=10_000)
    others = [m.path for m in group.others]
    d.trash_group.click()
    qtbot.waitUntil(lambda: not any(os.path.exists(p) for p in others), timeout=30_000)
    assert os.path.exists(group.keep)
    assert "Move these 2 copies to the system trash?" in answers[0]
    trash = tmp_path / "xdg" / "Trash" / "files"
    assert len(list(trash.iterdir())) == 2
    qtbot.waitUntil(lambda: d.groups == [] and "No duplicates" in d.summary.text(),
                    timeout=30_000)
    qtbot.waitUntil(w.cleanup.act_undo.isEnabled, timeout=10_000)
    w.cleanup.act_undo.trigger()
    qtbot.waitUntil(lambda: all(os.path.exists(p) for p in others), timeout=30_000)
    qtbot.waitUntil(lambda: len(d.groups) == 1, timeout=60_000)


def test_delete_trashes_a_single_photo_and_undo_puts_it_back(make_window, wait_indexed, qtbot,
                                                              copies, answers, tmp_path):
    """A photo in no duplicate group, trashed by hand (Delete): it goes, as in a file manager,
    with no question and no refusal after; it is journaled, the status bar says "1 file moved
    to the trash · Undo", and its Undo link puts the same bytes back (indexed again)."""
    w = make_window()
    w.add_folder(str(copies))
    wait_indexed(w, 4)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    grid = w.library.grid
    camera = str(copies / "camera.jpg")
    data = open(camera, "rb").read()
    qtbot.waitUntil(lambda: grid.model().row_of(camera) >= 0, timeout=10_000)
    qtbot.waitUntil(lambda: not w.cleanup.act_undo.isEnabled(), timeout=10_000)
    assert "Nothing to undo" in w.cleanup.act_undo.toolTip()  # disabled, and says why
    grid.setFocus()
    grid.setCurrentIndex(grid.model().index(grid.model().row_of(camera)))
    qtbot.keyClick(grid, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: not os.path.exists(camera), timeout=30_000)
    note = w.cleanup.note
    qtbot.waitUntil(lambda: note.plain == "1 file moved to the trash · Undo", timeout=10_000)
    assert note.isVisible() and 'href="undo"' in note.text()
    assert answers == []  # never asked, never refused
    assert w.cleanup.act_undo.isEnabled()
    trash = tmp_path / "xdg" / "Trash" / "files"
    assert [p.name for p in trash.iterdir()] == ["camera.jpg"]
    qtbot.waitUntil(lambda: grid.model().row_of(camera) < 0, timeout=30_000)
    from photofinder.library import Library

    with Library(w.library_path) as lib:  # journaled: the catalogue's own undo knows it
        assert lib.catalog.journal.last_batch() is not None
    note.linkActivated.emit("undo")  # the status bar's Undo link
    qtbot.waitUntil(lambda: os.path.exists(camera), timeout=30_000)
    assert open(camera, "rb").read() == data
    qtbot.waitUntil(lambda: note.plain == "1 file put back", timeout=10_000)
    qtbot.waitUntil(lambda: grid.model().row_of(camera) >= 0, timeout=30_000)
    wait_indexed(w, 4)
    assert answers == []
    qtbot.waitUntil(lambda: not w.cleanup.act_undo.isEnabled(), timeout=10_000)


def test_undo_says_which_photos_could_not_be_put_back(make_window, wait_indexed, qtbot, copies,
                                                       answers):
    w = make_window()
    w.add_folder(str(copies))
    wait_indexed(w, 4)
    gone = [str(copies / "coffee-resized.jpg"), str(copies / "coffee-recompressed.jpg")]
    w.cleanup.ask_trash(gone)
    qtbot.waitUntil(lambda: not any(os.path.exists(p) for p in gone), timeout=30_000)
    with open(gone[0], "wb") as f:  # another file took the name meanwhile
        f.write(b"not the photo")
    qtbot.waitUntil(w.cleanup.act_undo.isEnabled, timeout=10_000)
    w.cleanup.act_undo.trigger()
    qtbot.waitUntil(lambda: os.path.exists(gone[1]), timeout=30_000)
    qtbot.waitUntil(lambda: any("could not be put back" in a for a in answers), timeout=30_000)
    said = next(a for a in answers if "could not be put back" in a)
    assert "coffee-resized.jpg" in said and "coffee-recompressed.jpg" not in said
    assert open(gone[0], "rb").read() == b"not the photo"  # never overwritten


def test_indexing_ends_with_the_duplicates_check_and_the_view_opens_on_it(
        make_window, wait_indexed, qtbot, copies):
    """The check runs on the writer's thread as indexing ends (the status bar says so); an
    open Duplicates view shows what it found; opening the view later shows the stored
    groups at once, and its own run then has nothing left to check."""
    w = make_window()
    phases, labels = [], []
    w.indexer.phase.connect(phases.append)
    w.indexer.phase.connect(lambda _p: labels.append(w.index_status.label.text()))
    with qtbot.waitSignal(w.indexer.checked, timeout=120_000):
        w.add_folder(str(copies))
        w.show_duplicates()  # opened while indexing: then the check's groups
    assert phases.index("duplicates") > phases.index("indexing")
    assert "Checking the new photos for duplicates" in labels[phases.index("duplicates")]
    d = w.duplicates
    qtbot.waitUntil(lambda: len(d.groups) == 1 and not d.checking, timeout=60_000)
    wait_indexed(w, 4)
    names = {os.path.basename(m.path) for m in d.groups[0].members}
    assert names == {"coffee.jpg", "coffee-resized.jpg", "coffee-recompressed.jpg"}
    from photofinder.library import Library

    with Library(w.library_path) as lib:  # a reader, as a script beside the app would be
        stored = lib.stored_duplicates()
        stats: dict = {}
        lib.find_duplicates(stats=stats)
    assert stored is not None and stored.fresh and len(stored.groups) == 1
    assert stats["checked"] == 0 and stats["candidates"] == 0


# another holder of the library's write lock (as the app's reader is while it stores a check)
HOLDER = """
import sys, time
from photofinder.library import Library
with Library(sys.argv[1]) as lib, lib.writer.held():
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_trash_asked_while_the_lock_is_held_for_a_moment_waits_and_goes(
        make_window, wait_indexed, qtbot, copies, tmp_path):
    """The user's trash is never lost to a moment's overlap with another write (it was: the
    reader stored a duplicates check as Delete was pressed, and the trash failed as busy)."""
    import subprocess
    import sys

    w = make_window()
    w.add_folder(str(copies))
    wait_indexed(w, 4)
    said = []
    w.indexer.busy.connect(said.append)
    victim = str(copies / "camera.jpg")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "library"), "2"],
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert w.cleanup.trash_photos([victim])
        qtbot.waitUntil(lambda: not os.path.exists(victim), timeout=30_000)
    finally:
        holder.wait(30)
    assert holder.returncode == 0 and said == []
    qtbot.waitUntil(lambda: w.cleanup.note.plain == "1 file moved to the trash · Undo",
                    timeout=10_000)
