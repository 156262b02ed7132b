"""The duplicates review by keyboard, one group end to end: Up/Down between groups, Left/Right
between its copies (each compared with the one kept), Space unmarks a copy, Delete trashes the
marked ones, Ctrl+Z puts them back, + and 0 zoom the compare, K keeps another copy."""

from __future__ import annotations

import os
import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox


@pytest.fixture
def two_groups(tmp_path, photo_set, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # a private system trash
    folder = tmp_path / "photos"
    (folder / "backup").mkdir(parents=True)
    shutil.copy(photo_set / "originals" / "coffee.jpg", folder)
    for kind in ("resized", "recompressed"):
        shutil.copy(photo_set / "edited" / f"coffee-{kind}.jpg", folder)
    shutil.copy(photo_set / "originals" / "camera.jpg", folder)
    shutil.copy(photo_set / "originals" / "camera.jpg", folder / "backup" / "camera.jpg")
    return folder


def test_one_group_reviewed_by_keyboard(make_window, wait_indexed, qtbot, two_groups,
                                        monkeypatch):
    asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes))
    w = make_window()
    w.add_folder(str(two_groups))
    wait_indexed(w, 5)
    w.show_duplicates()
    d = w.duplicates
    qtbot.waitUntil(lambda: len(d.groups) == 2 and not d.checking, timeout=60_000)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    d.list.setFocus()
    key = lambda k, mod=Qt.KeyboardModifier.NoModifier: qtbot.keyClick(  # noqa: E731
        w.focusWidget() or d, k, mod)
    # counts say what they count: a photo and its one copy is "1 copy", not "2 copies"
    rows = {d._row_group(r).keep: d.list.item(r).text() for r in range(d.list.count())
            if d._row_group(r) is not None}
    camera = next(g for g in d.groups if os.path.basename(g.keep) == "camera.jpg")
    assert rows[camera.keep].endswith("\n1 copy")
    coffee = next(g for g in d.groups if os.path.basename(g.keep).startswith("coffee"))
    assert rows[coffee.keep].endswith("\n2 copies")
    first = d.current_group()
    key(Qt.Key.Key_Down)
    assert d.current_group() is d.groups[1] and d.current_group() is not first
    key(Qt.Key.Key_Up)
    assert d.current_group() is d.groups[0]
    if not any(os.path.basename(m.path) == "coffee.jpg" for m in d.current_group().members):
        key(Qt.Key.Key_Down)
    g = d.current_group()
    assert {os.path.basename(m.path) for m in g.members} == {
        "coffee.jpg", "coffee-resized.jpg", "coffee-recompressed.jpg"}
    a, b = [m.path for m in g.others]
    assert d.shown == a and d.compare_view.paths == [g.keep, a]
    assert d.marked_in(g) == {a, b}  # both pre-selected
    key(Qt.Key.Key_Right)
    assert d.shown == b and d.compare_view.paths == [g.keep, b]
    key(Qt.Key.Key_Left)
    assert d.shown == a
    key(Qt.Key.Key_Space)  # unmark the copy shown: it stays
    assert d.marked_in(g) == {b}
    card = next(c for c in d.cards if c.path == a)
    assert not card.mark.isChecked()
    # + zooms both photos of the compare, 0 fits them again
    qtbot.waitUntil(lambda: not d.compare_view.views[1].item.pixmap().isNull(), timeout=10_000)
    fitted = d.compare_view.scale()
    key(Qt.Key.Key_Plus)
    assert d.compare_view.scale() == pytest.approx(fitted * 1.25)
    key(Qt.Key.Key_0)
    assert d.compare_view.scale() == pytest.approx(fitted)
    # Delete: the marked copy goes (asked first: this is a clean-up of copies)
    key(Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: not os.path.exists(b), timeout=30_000)
    assert os.path.exists(a) and os.path.exists(g.keep)
    assert len(asked) == 1 and os.path.basename(b) in asked[0]
    qtbot.waitUntil(lambda: w.cleanup.note.plain == "1 file moved to the trash · Undo",
                    timeout=10_000)
    # Ctrl+Z: back
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    key(Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: os.path.exists(b), timeout=30_000)
    qtbot.waitUntil(lambda: w.cleanup.note.plain == "1 file put back", timeout=10_000)
    # K: keep the copy shown instead (remembered: the group comes back with it kept)
    qtbot.waitUntil(lambda: any(b in {m.path for m in x.members} for x in d.groups)
                    and not d.checking, timeout=60_000)
    g = next(x for x in d.groups if a in {m.path for m in x.members})
    while d.current_group() is not g:
        key(Qt.Key.Key_Down)
    while d.shown != a:
        key(Qt.Key.Key_Right)
    key(Qt.Key.Key_K)
    qtbot.waitUntil(lambda: any(x.keep == a for x in d.groups), timeout=60_000)
