""""Find this": drag a rectangle over a photo, then Find similar by that part of it.

``RegionLabel`` is the preview's picture: a drag draws a rubber band; the rectangle is kept in
the picture's own pixels as shown (EXIF orientation applied: what ``Library.similar(...,
region=...)`` and ``photofinder similar --region`` take), whatever the window's size.
``scene_to_picture`` does the same for the compare pane's views (QGraphicsView's own rubber
band, in scene coordinates).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPen, QColor
from PySide6.QtWidgets import QLabel

from photofinder.gui.signals import emit

MIN_DRAG = 8  # px on screen: a shorter drag is a click, not a region

Region = tuple[int, int, int, int]


def clamp(x: float, y: float, w: float, h: float, size: tuple[int, int]) -> Region | None:
    """(x, y, w, h) rounded and kept inside a picture of ``size`` (w, h); None when nothing
    of it is left."""
    fw, fh = size
    x0, y0 = max(0, round(x)), max(0, round(y))
    x1, y1 = min(fw, round(x + w)), min(fh, round(y + h))
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    return x0, y0, x1 - x0, y1 - y0


def scene_to_picture(rect: QRectF, item_rect: QRectF, size: tuple[int, int]) -> Region | None:
    """A rectangle in a view's scene -> the picture's pixels, where the picture (``size``: its
    full size as shown) is drawn over ``item_rect`` of the scene."""
    if item_rect.width() <= 0 or item_rect.height() <= 0:
        return None
    sx, sy = size[0] / item_rect.width(), size[1] / item_rect.height()
    return clamp((rect.x() - item_rect.x()) * sx, (rect.y() - item_rect.y()) * sy,
                 rect.width() * sx, rect.height() * sy, size)


class RegionLabel(QLabel):
    """A label showing a picture fitted and centred, on which a drag chooses a region."""

    region_changed = Signal(object)  # Region in the picture's pixels, or None

    def __init__(self, text: str = ""):
        super().__init__(text)
        self.picture_size: tuple[int, int] | None = None  # full size as shown
        self.region: Region | None = None
        self._drag: QPoint | None = None
        self._now: QPoint | None = None
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Drag over a part of the photo, then Find this")

    def set_picture_size(self, size: tuple[int, int] | None) -> None:
        self.picture_size = size
        self.clear_region()

    def clear_region(self) -> None:
        self.region, self._drag, self._now = None, None, None
        self.update()
        emit(self.region_changed, None)

    def picture_rect(self) -> QRect:
        """Where the fitted picture is drawn in the label (centred), in widget pixels."""
        pm = self.pixmap()
        if pm is None or pm.isNull():
            return QRect()
        size = QSize(pm.width(), pm.height()) / pm.devicePixelRatio()
        return QRect(QPoint((self.width() - size.width()) // 2,
                            (self.height() - size.height()) // 2), size)

    def set_region(self, region: Region | None) -> None:
        self.region = region
        self.update()
        emit(self.region_changed, region)

    def _to_picture(self, a: QPoint, b: QPoint) -> Region | None:
        r, size = self.picture_rect(), self.picture_size
        if r.isEmpty() or size is None:
            return None
        sx, sy = size[0] / r.width(), size[1] / r.height()
        x0, x1 = sorted((a.x(), b.x()))
        y0, y1 = sorted((a.y(), b.y()))
        return clamp((x0 - r.x()) * sx, (y0 - r.y()) * sy, (x1 - x0) * sx, (y1 - y0) * sy, size)

    def _to_widget(self, region: Region) -> QRect | None:
        r, size = self.picture_rect(), self.picture_size
        if r.isEmpty() or size is None:
            return None
        sx, sy = r.width() / size[0], r.height() / size[1]
        x, y, w, h = region
        return QRect(round(r.x() + x * sx), round(r.y() + y * sy), round(w * sx), round(h * sy))

    # -- mouse --------------------------------------------------------------------------
    def mousePressEvent(self, e) -> None:
        if e.button() == Qt.MouseButton.LeftButton and self.picture_size:
            self._drag = self._now = e.position().toPoint()
            self.update()
        super().mousePressEvent(e)

    def mouseMoveEvent(self, e) -> None:
        if self._drag is not None:
            self._now = e.position().toPoint()
            self.update()
        super().mouseMoveEvent(e)

    def mouseReleaseEvent(self, e) -> None:
        if self._drag is not None and e.button() == Qt.MouseButton.LeftButton:
            a, b = self._drag, e.position().toPoint()
            self._drag = self._now = None
            if abs(a.x() - b.x()) < MIN_DRAG or abs(a.y() - b.y()) < MIN_DRAG:
                self.clear_region()  # a click: the whole photo again
            else:
                self.set_region(self._to_picture(a, b))
        super().mouseReleaseEvent(e)

    def paintEvent(self, e) -> None:
        super().paintEvent(e)
        if self._drag is not None and self._now is not None:
            rect = QRect(self._drag, self._now).normalized()
        elif self.region is not None:
            rect = self._to_widget(self.region)
        else:
            return
        if rect is None:
            return
        p = QPainter(self)
        p.setPen(QPen(QColor(255, 210, 0), 2, Qt.PenStyle.DashLine))
        p.setBrush(QColor(255, 210, 0, 40))
        p.drawRect(rect)
        p.end()
