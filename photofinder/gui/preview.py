"""The large preview (double-click / Enter): the photo decoded off the UI thread, fitted to
the window, with its details and the actions that make sense for one photo."""

from __future__ import annotations

import os

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout

from photofinder.library import PictureError, open_picture
from photofinder.gui.icons import icon
from photofinder.gui.thumbnails import pil_to_qimage
from photofinder.gui.signals import emit

PREVIEW_SIZE = 1600


class _Signals(QObject):
    done = Signal(str, object, str, str)  # path, QImage | None, details, error


class _Decode(QRunnable):
    def __init__(self, path: str, signals: _Signals):
        super().__init__()
        self.path, self.signals = path, signals

    def run(self) -> None:
        try:
            decoded = open_picture(self.path, PREVIEW_SIZE)
            img = decoded.image
            img.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
            size = os.path.getsize(self.path)
            details = f"{decoded.width} × {decoded.height} · {size / 1e6:.1f} MB"
            if decoded.taken_at:
                details += f" · taken {decoded.taken_at}"
            emit(self.signals.done, self.path, pil_to_qimage(img), details, "")
        except (PictureError, OSError) as e:
            emit(self.signals.done, self.path, None, "", str(e))


class PreviewDialog(QDialog):
    find_similar = Signal(str)
    show_in_folder = Signal(str)
    open_external = Signal(str)
    navigate = Signal(int)  # -1 previous, +1 next

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Preview")
        self.resize(1000, 760)
        self.path: str | None = None
        self._pixmap: QPixmap | None = None
        self._signals = _Signals(self)
        self._signals.done.connect(self._on_done)
        lay = QVBoxLayout(self)
        self.image = QLabel("Loading…")
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.image.setStyleSheet("background: #1f2329; color: #aab;")
        lay.addWidget(self.image, 1)
        self.caption = QLabel("")
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.caption)
        row = QHBoxLayout()
        for text, name, signal in (("Find similar", "find-similar", self.find_similar),
                                   ("Show in folder", "folder", self.show_in_folder),
                                   ("Open with default app", "open-external", self.open_external)):
            b = QPushButton(icon(name), text)
            b.clicked.connect(lambda _=False, s=signal: self.path and emit(s, self.path))
            row.addWidget(b)
        row.addStretch()
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        row.addWidget(close)
        lay.addLayout(row)
        QShortcut(QKeySequence(Qt.Key.Key_Left), self, lambda: emit(self.navigate, -1))
        QShortcut(QKeySequence(Qt.Key.Key_Right), self, lambda: emit(self.navigate, 1))
        self.find_similar.connect(lambda _p: self.close())

    def show_path(self, path: str) -> None:
        self.path = path
        self._pixmap = None
        self.setWindowTitle(os.path.basename(path))
        self.image.setPixmap(QPixmap())
        self.image.setText("Loading…")
        self.caption.setText(path)
        QThreadPool.globalInstance().start(_Decode(path, self._signals))
        self.show()
        self.raise_()

    def _on_done(self, path: str, img, details: str, error: str) -> None:
        if path != self.path:
            return  # the user moved on
        if img is None:
            self.image.setText(f"This photo cannot be shown: {error}")
            return
        self._pixmap = QPixmap.fromImage(img)
        self.caption.setText(f"{path}\n{details}")
        self._fit()

    def _fit(self) -> None:
        if self._pixmap is None:
            return
        dpr = self.devicePixelRatioF()
        target = QSize(self.image.width(), self.image.height()) * dpr
        pm = self._pixmap.scaled(target, Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
        pm.setDevicePixelRatio(dpr)
        self.image.setPixmap(pm)

    def resizeEvent(self, e) -> None:
        super().resizeEvent(e)
        self._fit()
