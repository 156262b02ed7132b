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


def test_keyboard_arrows_enter_and_ctrl_f(indexed_window, qtbot, wait_results):
    w = indexed_window
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)  # shortcuts (Ctrl+F) reach the active window
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
    qtbot.keyClick(grid, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    wait_results(w)
    assert w.results.query == second
    qtbot.keyClick(w.results.grid, Qt.Key.Key_Escape)
    assert w.stack.currentWidget() is w.library
