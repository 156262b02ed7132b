"""The map of the library (issue 14): it renders (points far out, thumbnails close in), a
rubber band selects what it covers, the selection opens as a grid and searches; marks on
results re-rank the query in the window. Real widgets, a real library, the real model."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from photofinder.gui import learning
from photofinder.gui.map_view import MapView
from photofinder.gui.thumbnails import ThumbnailLoader
from photofinder.library import LibraryMap


def _mouse(widget, kind, pos: QPoint, button, buttons) -> None:
    # QTest's mouseMove carries no pressed buttons; the rubber band needs them
    p = QPointF(pos)
    ev = QMouseEvent(kind, p, widget.mapToGlobal(p), button, buttons,
                     Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)


def _drag(widget, a: QPoint, b: QPoint) -> None:
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    _mouse(widget, QEvent.Type.MouseButtonPress, a, left, left)
    for t in np.linspace(0.1, 1.0, 8):
        _mouse(widget, QEvent.Type.MouseMove, a + (b - a) * float(t), none, left)
    _mouse(widget, QEvent.Type.MouseButtonRelease, b, left, none)


@pytest.fixture
def map_view(qtbot, photo_set, tmp_path):
    paths = sorted(str(p) for p in photo_set.rglob("*.jpg"))
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1000, (len(paths), 2)).astype(np.float32)
    loader = ThumbnailLoader(str(tmp_path / "thumbs"))
    v = MapView(loader)
    qtbot.addWidget(v)
    v.resize(900, 650)
    v.show()
    v.set_map(LibraryMap(paths, xy, "test"))
    qtbot.waitExposed(v)
    yield v, paths, xy
    loader.shutdown()


def test_map_renders_points_then_thumbnails_and_a_rubber_band_selects(map_view, qtbot):
    v, paths, xy = map_view
    c = v.canvas
    c.layer.max_thumbs = 10  # level of detail: more photos in view than this are points
    img = c.viewport().grab().toImage()
    assert not img.isNull()
    bg = img.pixelColor(2, 2)
    # far out: points (blue-ish), no thumbnails
    painted = sum(img.pixelColor(x, y) != bg for x in range(0, img.width(), 4)
                  for y in range(0, img.height(), 4))
    assert painted > 20 and c.layer.drawn_thumbs == 0
    # a rubber band over the middle selects exactly the photos inside it
    vp = c.viewport()
    a, b = QPoint(vp.width() // 4, vp.height() // 4), QPoint(3 * vp.width() // 4,
                                                            3 * vp.height() // 4)
    with qtbot.waitSignal(c.selection_changed, timeout=5000) as got:
        _drag(vp, a, b)
    rect = QRectF(c.mapToScene(a), c.mapToScene(b)).normalized()
    placed = c.layer.xy  # the layout as shown (snapped to a grid)
    inside = {p for p, (x, y) in zip(c.layer.paths, placed)
              if rect.contains(QPointF(float(x), float(y)))}
    assert inside and set(got.args[0]) == inside == set(c.selected_paths())
    assert v.btn_grid.isEnabled() and f"{len(inside)} of {len(paths)}" in v.info.text()
    with qtbot.waitSignal(v.open_grid) as opened:
        v.btn_grid.click()
    assert set(opened.args[0]) == inside
    # close in (fewer in view than max_thumbs): thumbnails are loaded and drawn
    c.zoom(6.0)
    c.centerOn(QPointF(float(placed[0, 0]), float(placed[0, 1])))
    qtbot.waitUntil(lambda: (c.viewport().repaint() or True) and c.layer.drawn_thumbs > 0,
                    timeout=30000)


@pytest.mark.slow
def test_window_map_selection_search_and_marks(make_window, qtbot, photo_set, wait_indexed,
                                               wait_results):
    pytest.importorskip("openTSNE")
    w = make_window()
    w.add_folder(str(photo_set))
    wait_indexed(w, 40)
    w.map.action.trigger()
    assert w.stack.currentWidget() is w.map.view
    qtbot.waitUntil(lambda: w.map.view.count == 40, timeout=120_000)
    c = w.map.view.canvas
    # select everything near the coffee photo: its edited copies are its neighbours
    coffee = str(photo_set / "originals" / "coffee.jpg")
    i = c.layer.paths.index(coffee)
    x, y = c.layer.xy[i]
    r = 1.6 * c.layer.step  # the cells around it (the layout is snapped to a grid)
    got = c.select_rect(QRectF(float(x) - r, float(y) - r, 2 * r, 2 * r))
    names = {os.path.basename(p) for p in got}
    assert "coffee.jpg" in names and len({n for n in names if n.startswith("coffee")}) >= 3
    # the selection sent to the duplicates check: the coffee copies, nothing from elsewhere
    w.map.view.btn_dups.click()
    assert w.stack.currentWidget() is w.duplicates
    qtbot.waitUntil(lambda: bool(w.duplicates.groups), timeout=120_000)
    members = {m.path for g in w.duplicates.groups for m in g.members}
    assert coffee in members and members <= set(got)
    w.map.view.btn_search.click()  # find similar to the selection
    wait_results(w)
    assert not set(m.path for m in w.results.model.matches) & set(got)
    # find-similar results are ringed on the map
    w.search(coffee)
    qtbot.waitUntil(lambda: w.results.query == coffee and bool(w.results.model.matches)
                    and w.map.view.canvas.layer.highlighted.sum() > 0, timeout=60_000)
    # a "similar" mark on a low result re-ranks the query at once
    low = w.results.model.matches[-1].path
    w.indexer.submit(learning.mark_job, w.indexer, coffee, low, "similar")
    qtbot.waitUntil(lambda: bool(w.results.model.matches)
                    and w.results.model.matches[0].path == low, timeout=60_000)
    assert w.results.model.matches[0].mark == "similar"


def test_map_thumbnails_never_overlap_and_a_legend_says_what_frames_mean(map_view, qtbot):
    """The layout is snapped to a grid (one photo a cell, neighbours kept): no two photos
    closer than a cell, thumbnails drawn within their cell; the legend names each frame."""
    v, paths, xy = map_view
    c = v.canvas
    crowded = xy.copy()
    crowded[1] = crowded[0] + 0.5  # two photos on top of each other, as t-SNE puts copies
    from photofinder.library import LibraryMap

    v.set_map(LibraryMap(paths, crowded, "test"))
    placed, step = c.layer.xy, c.layer.step
    assert step > 0 and len(placed) == len(paths)
    d = np.hypot(*(placed[:, None, :] - placed[None, :, :]).transpose(2, 0, 1))
    assert d[~np.eye(len(paths), dtype=bool)].min() >= step * 0.999
    # neighbours stay neighbours: the two that were on top of each other stay close
    assert d[0, 1] <= 2.5 * step
    # every thumbnail within its cell at the overview
    c.layer.max_thumbs = len(paths)
    qtbot.waitUntil(lambda: (c.viewport().repaint() or True) and c.layer.drawn_thumbs > 0,
                    timeout=30000)
    assert "Drag to select" in v.legend.text() and "Find similar" not in v.legend.text()
    v.highlight(paths[:3], "/photos/coffee.jpg")
    c.select_rect(QRectF(float(placed[0, 0]) - 1, float(placed[0, 1]) - 1, 2, 2))
    text = v.legend.text()
    assert "the results of Find similar for coffee.jpg" in text and "selected" in text
    assert v.legend.sizePolicy().horizontalPolicy().name == "Ignored"  # never widens the window


def test_map_progress_only_moves_forward(make_window):
    """t-SNE counts again from 0 in its second phase: the message goes on from where it was."""
    w = make_window()
    said = []
    for done in (0, 100, 175, 250, 25, 300):
        w.map._progress("arranging the map", done, 750)
        said.append(int(re.search(r"(\d+) of 750", w.map.view.info.text()).group(1)))
    assert said == sorted(said) and said[-1] == 550
