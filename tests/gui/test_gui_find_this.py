""""Find this": a rectangle dragged over the preview (or the compare pane) searches by that
part of the photo. Real window, real library, real model; mouse events sent for real."""

from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from photofinder.gui.region import RegionLabel, clamp, scene_to_picture


def _mouse(widget, kind, at: QPoint, buttons=Qt.MouseButton.LeftButton):
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else \
        Qt.MouseButton.LeftButton
    e = QMouseEvent(kind, QPointF(at), QPointF(widget.mapToGlobal(at)), button, buttons,
                    Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, e)


def drag(widget, a: QPoint, b: QPoint) -> None:
    _mouse(widget, QEvent.Type.MouseButtonPress, a)
    for t in (0.3, 0.7, 1.0):
        _mouse(widget, QEvent.Type.MouseMove, a + (b - a) * t)
    _mouse(widget, QEvent.Type.MouseButtonRelease, b, Qt.MouseButton.NoButton)


def test_regions_map_to_the_pictures_pixels():
    assert clamp(-5, 10.4, 50, 500, (40, 300)) == (0, 10, 40, 290)
    assert clamp(50, 10, 20, 20, (40, 300)) is None
    # a picture 4000 x 3000 drawn over the scene's (100, 50)-(900, 650)
    got = scene_to_picture(QRectF(300, 200, 200, 150), QRectF(100, 50, 800, 600), (4000, 3000))
    assert got == (1000, 750, 1000, 750)


def test_drag_in_the_preview_then_find_this(make_window, wait_indexed, wait_results, photo_set,
                                            qtbot):
    w = make_window()
    w.add_folder(str(photo_set))
    wait_indexed(w, 40)
    q = str(photo_set / "originals" / "coffee.jpg")  # 600 x 400
    w.preview.resize(900, 700)
    w.preview.show_path(q)
    qtbot.waitUntil(lambda: w.preview._pixmap is not None and
                    w.preview.image.picture_size is not None, timeout=10_000)
    label: RegionLabel = w.preview.image
    assert isinstance(label, RegionLabel) and label.picture_size == (600, 400)
    assert not w.preview.find_this.isEnabled()
    r = label.picture_rect()
    assert r.width() > 300
    # a click is no region
    drag(label, r.center(), r.center() + QPoint(2, 2))
    assert label.region is None and not w.preview.find_this.isEnabled()
    # the cup: the middle of the photo, from 20 % to 75 % across, 5 % to 80 % down
    a = QPoint(r.x() + round(0.20 * r.width()), r.y() + round(0.05 * r.height()))
    b = QPoint(r.x() + round(0.75 * r.width()), r.y() + round(0.80 * r.height()))
    drag(label, a, b)
    x, y, wd, ht = label.region
    assert abs(x - 120) <= 4 and abs(y - 20) <= 4 and abs(wd - 330) <= 6 and abs(ht - 300) <= 6
    assert w.preview.find_this.isEnabled()
    label.grab().save(os.environ.get("PF_SHOT_PREVIEW", os.devnull), "PNG")
    qtbot.mouseClick(w.preview.find_this, Qt.MouseButton.LeftButton)
    wait_results(w)
    assert not w.preview.isVisible()
    assert "part of coffee.jpg" in w.results.title.text()
    m = w.results.model
    from photofinder.gui.models import PathRole, value

    first = os.path.basename(value(m.index(0), PathRole))
    assert first.startswith("coffee-"), first


def test_select_a_part_in_the_compare_pane(make_window, photo_set, qtbot):
    w = make_window()
    cv = w.duplicates.compare_view
    cv.resize(1000, 500)
    cv.show()
    left, right = (str(photo_set / "originals" / "rocket.jpg"),
                   str(photo_set / "edited" / "rocket-resized.jpg"))
    cv.show_pair(left, right, ("keep", "copy"))
    qtbot.waitUntil(lambda: all(v.full_size for v in cv.views), timeout=10_000)
    assert cv.views[0].full_size == (640, 427) and cv.views[1].full_size == (320, 213)
    asked = []
    cv.find_region.connect(lambda p, r: asked.append((p, r)))
    cv.select.setChecked(True)
    view = cv.views[1]
    item = view.item.sceneBoundingRect()
    # the right half of the copy, chosen in scene coordinates as the rubber band gives them
    view.chosen.emit(QRectF(item.center().x(), item.top(), item.width(), item.height()))
    assert cv.find_this.isEnabled() and view.mark.isVisible()
    qtbot.mouseClick(cv.find_this, Qt.MouseButton.LeftButton)
    assert asked and asked[0][0] == right
    x, y, wd, ht = asked[0][1]
    assert abs(x - 160) <= 1 and y == 0 and abs(wd - 160) <= 1 and ht == 213
