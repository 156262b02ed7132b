"""Side-by-side compare of two copies with synchronised zoom and pan: the wheel (or +/-)
zooms both, dragging one pans both, "Fit" resets. Images are decoded off the UI thread."""

from __future__ import annotations

import os

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import (QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QHBoxLayout,
                               QLabel, QPushButton, QVBoxLayout, QWidget)

from photofinder.library import PictureError, thumbnail
from photofinder.gui.signals import emit
from photofinder.gui.thumbnails import pil_to_qimage

SIZE = 2048
NORM = 1600.0  # both copies are laid out this wide, so one zoom shows the same detail in both


class _Done(QObject):
    done = Signal(int, str, object)  # side, path, QImage | None


class _Load(QRunnable):
    def __init__(self, side: int, path: str, sink: _Done):
        super().__init__()
        self.side, self.path, self.sink = side, path, sink

    def run(self) -> None:
        try:
            img = thumbnail(self.path, SIZE)
            emit(self.sink.done, self.side, self.path, pil_to_qimage(img))
        except (PictureError, OSError):
            emit(self.sink.done, self.side, self.path, None)


class _View(QGraphicsView):
    zoomed = Signal(float)

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

    def wheelEvent(self, e) -> None:
        emit(self.zoomed, 1.25 if e.angleDelta().y() > 0 else 0.8)


class CompareView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._sink = _Done(self)
        self._sink.done.connect(self._on_loaded)
        self.paths = ["", ""]
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.views = [_View(), _View()]
        self.captions = [QLabel(), QLabel()]
        for view, cap in zip(self.views, self.captions):
            col = QVBoxLayout()
            cap.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            col.addWidget(cap)
            col.addWidget(view, 1)
            row.addLayout(col)
            view.zoomed.connect(self.zoom)
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
        buttons.addStretch()
        lay.addLayout(buttons)

    def show_pair(self, left: str, right: str, captions: tuple[str, str]) -> None:
        self.paths = [left, right]
        for side, (path, cap) in enumerate(zip(self.paths, captions)):
            self.views[side].item.setPixmap(QPixmap())
            self.captions[side].setText(cap)
            self.captions[side].setToolTip(path)
            QThreadPool.globalInstance().start(_Load(side, path, self._sink))

    def _on_loaded(self, side: int, path: str, img) -> None:
        if self.paths[side] != path:
            return
        view = self.views[side]
        if img is None:
            self.captions[side].setText(self.captions[side].text() + " — cannot be shown")
            return
        view.item.setPixmap(QPixmap.fromImage(img))
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
