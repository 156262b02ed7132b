"""Find similar from the GUI: context menu, drag-and-drop, File > Open / `gui IMAGE`, slider,
keyboard. Real window, real library, real model."""

from __future__ import annotations

import os

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from photofinder.gui.models import PathRole, ScoreRole, value


@pytest.fixture
def indexed_window(make_window, wait_indexed, photo_set):
    w = make_window()
    w.add_folder(str(photo_set))
    wait_indexed(w, 40)
    qt_wait_rows(w, 40)
    return w


def qt_wait_rows(w, n):
    from pytestqt.qtbot import QtBot

    QtBot(w).waitUntil(lambda: w.library.model.rowCount() >= n, timeout=30_000)


def result_paths(w) -> list[str]:
    m = w.results.model
    return [value(m.index(r), PathRole) for r in range(m.rowCount())]


def result_scores(w) -> list[float]:
    m = w.results.model
    return [value(m.index(r), ScoreRole) for r in range(m.rowCount())]


def right_click(w, grid, path):
    """Right-click the cell of ``path`` the way a user does; returns the context menu."""
    row = grid.model().row_of(path)
    assert row >= 0, path
    ix = grid.model().index(row)
    grid.scrollTo(ix)
    center = grid.visualRect(ix).center()
    grid.customContextMenuRequested.emit(center)
    menu = w.context_menu
    assert menu.isVisible()
    return menu


def drag_and_drop(target, mime) -> tuple:
    """A drag entering ``target`` then a drop on it, as the window system delivers them."""
    pos = QPoint(target.width() // 2, target.height() // 2)
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, enter)
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    drop.ignore()
    if enter.isAccepted():
        QApplication.sendEvent(target, drop)
    return enter, drop


def trigger(menu, text):
    action = next(a for a in menu.actions() if a.text() == text)
    action.trigger()
    menu.close()


def test_right_click_find_similar_shows_edited_copies_first(indexed_window, wait_results,
                                                            photo_set):
    w = indexed_window
    query = str(photo_set / "originals" / "chelsea.jpg")
    assert w.stack.currentWidget() is w.library
    menu = right_click(w, w.library.grid, query)
    assert [a.text() for a in menu.actions() if a.text()][:1] == ["Find similar"]
    trigger(menu, "Find similar")
    wait_results(w)
    paths = result_paths(w)
    assert query not in paths  # the query itself is left out
    top3 = {os.path.basename(p) for p in paths[:3]}
    assert top3 == {"chelsea-resized.jpg", "chelsea-cropped.jpg", "chelsea-recompressed.jpg"}
    scores = result_scores(w)
    assert scores == sorted(scores, reverse=True)
    assert "chelsea.jpg" in w.results.title.text()


def test_slider_refilters_without_a_new_search(indexed_window, wait_results, photo_set):
    w = indexed_window
    w.search(str(photo_set / "originals" / "coffee.jpg"))
    wait_results(w)
    w.results.slider.setValue(0)
    everything = result_scores(w)
    assert len(everything) == 39  # the whole library but the query
    w.results.slider.setValue(90)
    high = result_scores(w)
    assert 0 < len(high) < len(everything)
    assert all(s >= 0.90 for s in high)
    assert {os.path.basename(p) for p in result_paths(w)} >= {"coffee-resized.jpg",
                                                            "coffee-recompressed.jpg"}
    assert "90%" in w.results.subtitle.text()
    w.results.slider.setValue(100)
    assert w.results.model.rowCount() == 0
    assert w.results.placeholder.isVisible() and "slider" in w.results.placeholder.text()


def test_drop_an_outside_photo_searches_by_it(indexed_window, wait_results, photo_set, tmp_path):
    w = indexed_window
    outside = tmp_path / "from-my-phone.jpg"
    with Image.open(photo_set / "originals" / "rocket.jpg") as im:
        im.convert("RGB").rotate(3, expand=False).resize((300, 200)).save(outside, quality=80)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(outside))])
    enter, drop = drag_and_drop(w.library.grid.viewport(), mime)
    assert enter.isAccepted() and drop.isAccepted()
    wait_results(w)
    names = [os.path.basename(p) for p in result_paths(w)[:4]]
    assert set(names) == {"rocket.jpg", "rocket-resized.jpg", "rocket-cropped.jpg",
                          "rocket-recompressed.jpg"}
    assert "outside the library" in w.results.subtitle.text()


def test_a_drop_of_something_else_is_refused(indexed_window):
    mime = QMimeData()
    mime.setText("not a photo")
    enter, drop = drag_and_drop(indexed_window.library.grid.viewport(), mime)
    assert not enter.isAccepted() and not drop.isAccepted()
    assert indexed_window.stack.currentWidget() is indexed_window.library


def test_gui_image_opens_straight_into_its_results(make_window, wait_indexed, wait_results,
                                                   photo_set, tmp_path):
    lib = tmp_path / "lib2"
    w = make_window(library=lib)
    w.add_folder(str(photo_set / "edited"))
    wait_indexed(w, 30)
    w.close()
    w2 = make_window(library=lib, image=str(photo_set / "originals" / "astronaut.jpg"))
    assert w2.stack.currentWidget() is w2.results
    wait_results(w2)
    names = [os.path.basename(p) for p in result_paths(w2)[:3]]
    assert all(n.startswith("astronaut-") for n in names)


def test_keyboard_arrows_enter_find_similar_and_back(indexed_window, qtbot, wait_results):
    """Arrows and Enter in the grid; Ctrl+Shift+F finds similar; Ctrl+F puts the cursor in the
    search box (typing there never runs Find similar), Down takes it on into the grid; Esc,
    Alt+Left, Backspace and the mouse's back button all go back."""
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent

    w = indexed_window
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)  # shortcuts reach the active window
    grid = w.library.grid
    grid.setFocus()
    grid.setCurrentIndex(grid.model().index(0))
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    assert grid.currentIndex().row() == 1
    second = grid.current_path()
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert w.preview.isVisible() and w.preview.path == second
    qtbot.waitUntil(lambda: w.preview._pixmap is not None, timeout=10_000)
    w.preview.close()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    qtbot.keyClick(grid, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    wait_results(w)
    assert w.results.query == second
    qtbot.keyClick(w.results.grid, Qt.Key.Key_Escape)
    assert w.stack.currentWidget() is w.library
    # Ctrl+F: the search box, wherever the focus was; typing filters, Down goes into the grid
    qtbot.keyClick(grid, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert w.library.filter.hasFocus() and w.stack.currentWidget() is w.library
    qtbot.keyClicks(w.library.filter, "rocket")
    qtbot.keyClick(w.library.filter, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert w.stack.currentWidget() is w.library  # Ctrl+F again: no search ran
    qtbot.keyClick(w.library.filter, Qt.Key.Key_Down)
    assert grid.hasFocus() and w.library.model.rowCount() == 4
    assert os.path.basename(grid.current_path()).startswith("rocket")
    qtbot.keyClick(w.library.filter, Qt.Key.Key_Backspace)  # in the box: deletes a letter
    assert w.library.filter.text() == "rocke" and w.stack.currentWidget() is w.library
    # back: Alt+Left, Backspace (outside a text box) and the mouse's back button
    for back in ("alt", "backspace", "mouse"):
        w.find_similar_current()
        wait_results(w)
        if back == "alt":
            qtbot.keyClick(w.results.grid, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
        elif back == "backspace":
            qtbot.keyClick(w.results.grid, Qt.Key.Key_Backspace)
        else:
            vp = w.results.grid.viewport()
            for kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease):
                QApplication.sendEvent(vp, QMouseEvent(
                    kind, QPointF(5, 5), vp.mapToGlobal(QPointF(5, 5)), Qt.MouseButton.BackButton,
                    Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
        assert w.stack.currentWidget() is w.library, back


def test_each_search_starts_at_the_default_threshold(indexed_window, wait_results, photo_set):
    """The slider moved for one search does not carry over: the next one starts afresh."""
    from photofinder.gui.results_view import DEFAULT_THRESHOLD

    w = indexed_window
    w.search(str(photo_set / "originals" / "coffee.jpg"))
    wait_results(w)
    before = w.results.model.rowCount()
    w.results.slider.setValue(100)
    assert w.results.model.rowCount() == 0
    w.search(str(photo_set / "originals" / "rocket.jpg"))
    assert w.results.slider.value() == DEFAULT_THRESHOLD
    wait_results(w)
    assert w.results.slider.value() == DEFAULT_THRESHOLD
    assert w.results.model.rowCount() > 0 and before > 0
    assert not w.results.placeholder.isVisible()


def test_the_window_keeps_its_width_when_results_appear(make_window, wait_indexed, wait_results,
                                                         photo_set, tmp_path, qtbot):
    """A long file name in the title, a long line under it, a long status: the window stays
    as wide as it was (and could be as narrow as a 1024 px screen)."""
    folder = tmp_path / "long"
    folder.mkdir()
    long_name = "a holiday photo with a very long name that goes on and on " * 3 + ".jpg"
    (folder / long_name).write_bytes((photo_set / "originals" / "coffee.jpg").read_bytes())
    (folder / "rocket.jpg").write_bytes((photo_set / "originals" / "rocket.jpg").read_bytes())
    w = make_window()
    w.resize(1000, 560)  # the offscreen screen is 800 x 600: as much as it allows
    qtbot.waitUntil(lambda: w.status is not None, timeout=30_000)
    width = w.width()
    w.add_folder(str(folder))
    wait_indexed(w, 2)
    w.search(str(folder / long_name))
    wait_results(w)
    w.index_status.label.setText("Checking the new photos for duplicates: " + "1,234 of 5,678 "
                                 "pairs " * 8)
    w.duplicates.compare_view.captions[0].setText(long_name * 2)
    qtbot.wait(200)
    assert w.width() == width
    assert w.minimumSizeHint().width() <= 1024
    assert long_name in w.results.title.toolTip()  # the whole of it, where it was cut
