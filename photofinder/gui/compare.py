"""Side-by-side compare of two copies with synchronised zoom and pan: the wheel (or +/-)
zooms both, dragging one pans both, "Fit" resets. Images are decoded off the UI thread.
"Select a part" makes a drag choose a part of either photo instead; "Find this" then finds
the photos that show that part (gui/region.py)."""

from __future__ import annotations

import os

from PySide6.QtCore import QObject, QRectF, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QHBoxLayout,
                               QPushButton, QVBoxLayout, QWidget)

from photofinder.library import PictureError, open_picture
from photofinder.gui.region import scene_to_picture
from photofinder.gui.signals import emit
from photofinder.gui.thumbnails import pil_to_qimage
from photofinder.gui.widgets import ElidedLabel

SIZE = 2048
NORM = 1600.0  # both copies are laid out this wide, so one zoom shows the same detail in both


class _Done(QObject):
    done = Signal(int, str, object, object)  # side, path, QImage | None, full size


class _Load(QRunnable):
    def __init__(self, side: int, path: str, sink: _Done):
        super().__init__()
        self.side, self.path, self.sink = side, path, sink

    def run(self) -> None:
        try:
            decoded = open_picture(self.path, SIZE)
            img = decoded.image
            img.thumbnail((SIZE, SIZE))
            emit(self.sink.done, self.side, self.path, pil_to_qimage(img),
                 (decoded.width, decoded.height))
        except (PictureError, OSError):
            emit(self.sink.done, self.side, self.path, None, None)


class _View(QGraphicsView):
    zoomed = Signal(float)
    chosen = Signal(object)  # the rubber band's last rectangle, in scene coordinates

    def __init__(self):
        super().__init__()
        self.setScene(QGraphicsScene(self))
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self.item)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(Qt.GlobalColor.darkGray)
        self.full_size: tuple[int, int] | None = None
        self._band = None
        self.rubberBandChanged.connect(self._on_band)
        self.mark = self.scene().addRect(0, 0, 0, 0, QPen(QColor(255, 210, 0), 0,
                                                          Qt.PenStyle.DashLine),
                                         QColor(255, 210, 0, 40))
        self.mark.setVisible(False)
        self.mark.setZValue(1)

    def _on_band(self, viewport_rect, from_scene, to_scene) -> None:
        if not viewport_rect.isNull():
            self._band = QRectF(from_scene, to_scene).normalized()
        elif self._band is not None:  # released: the last rectangle is the choice
            band, self._band = self._band, None
            emit(self.chosen, band)

    def wheelEvent(self, e) -> None:
        emit(self.zoomed, 1.25 if e.angleDelta().y() > 0 else 0.8)


class CompareView(QWidget):
    find_region = Signal(str, object)  # path, (x, y, w, h) in its pixels as shown

    def __init__(self, parent=None):
        super().__init__(parent)
        self._sink = _Done(self)
        self._sink.done.connect(self._on_loaded)
        self.paths = ["", ""]
        self.region: tuple[int, tuple[int, int, int, int]] | None = None  # side, region
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.views = [_View(), _View()]
        self.captions = [ElidedLabel(), ElidedLabel()]
        for view, cap in zip(self.views, self.captions):
            col = QVBoxLayout()
            col.addWidget(cap)
            col.addWidget(view, 1)
            row.addLayout(col)
            view.zoomed.connect(self.zoom)
            view.chosen.connect(lambda rect, v=view: self._on_chosen(v, rect))
        a, b = self.views
        for one, other in ((a, b), (b, a)):
            one.horizontalScrollBar().valueChanged.connect(other.horizontalScrollBar().setValue)
            one.verticalScrollBar().valueChanged.connect(other.verticalScrollBar().setValue)
        lay.addLayout(row, 1)
        buttons = QHBoxLayout()
        for text, slot in (("Zoom in", lambda: self.zoom(1.25)), ("Zoom out", lambda: self.zoom(0.8)),
                           ("Fit", self.fit), ("100%", self.actual_size)):
            b = QPushButton(text)
            b.clicked.connect(lambda _=False, s=slot: s())
            buttons.addWidget(b)
        self.select = QPushButton("Select a part")
        self.select.setCheckable(True)
        self.select.setToolTip("Drag over a part of either photo, then Find this")
        self.select.toggled.connect(self._selecting)
        buttons.addWidget(self.select)
        self.find_this = QPushButton("Find this")
        self.find_this.setToolTip("Find the photos that show the part you chose")
        self.find_this.setEnabled(False)
        self.find_this.clicked.connect(self._find_this)
        buttons.addWidget(self.find_this)
        buttons.addStretch()
        lay.addLayout(buttons)

    def _selecting(self, on: bool) -> None:
        mode = QGraphicsView.DragMode.RubberBandDrag if on else \
            QGraphicsView.DragMode.ScrollHandDrag
        for v in self.views:
            v.setDragMode(mode)

    def _on_chosen(self, view: "_View", rect: QRectF) -> None:
        side = self.views.index(view)
        region = None
        if view.full_size and not view.item.pixmap().isNull():
            region = scene_to_picture(rect, view.item.sceneBoundingRect(), view.full_size)
        for v in self.views:
            v.mark.setVisible(False)
        self.region = (side, region) if region else None
        if region:
            view.mark.setRect(rect.intersected(view.item.sceneBoundingRect()))
            view.mark.setVisible(True)
        self.find_this.setEnabled(region is not None)

    def _find_this(self) -> None:
        if self.region is not None:
            side, region = self.region
            emit(self.find_region, self.paths[side], region)

    def show_pair(self, left: str, right: str, captions: tuple[str, str]) -> None:
        self.paths = [left, right]
        self.region = None
        self.find_this.setEnabled(False)
        for side, (path, cap) in enumerate(zip(self.paths, captions)):
            self.views[side].item.setPixmap(QPixmap())
            self.views[side].mark.setVisible(False)
            self.views[side].full_size = None
            self.captions[side].setText(cap)
            self.captions[side].setToolTip(f"{cap}\n{path}")
            QThreadPool.globalInstance().start(_Load(side, path, self._sink))

    def _on_loaded(self, side: int, path: str, img, full_size=None) -> None:
        if self.paths[side] != path:
            return
        view = self.views[side]
        if img is None:
            self.captions[side].setText(self.captions[side].text() + " — cannot be shown")
            return
        view.item.setPixmap(QPixmap.fromImage(img))
        view.full_size = full_size
        view.item.setScale(NORM / max(1, img.width()))
        view.scene().setSceneRect(view.item.sceneBoundingRect())
        self.fit()

    def scale(self) -> float:
        return self.views[0].transform().m11()

    def zoom(self, factor: float) -> None:
        for v in self.views:
            v.scale(factor, factor)

    def fit(self) -> None:
        for v in self.views:
            if not v.item.pixmap().isNull():
                v.fitInView(v.item, Qt.AspectRatioMode.KeepAspectRatio)

    def actual_size(self) -> None:
        for v in self.views:
            v.resetTransform()

    def title(self) -> str:
        return " vs ".join(os.path.basename(p) for p in self.paths)
