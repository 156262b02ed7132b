"""The large preview (double-click / Enter): the photo decoded off the UI thread, fitted to
the window, with its details and the actions that make sense for one photo. A drag over the
photo chooses a part of it; "Find this" then finds the photos that show that part
(gui/region.py)."""

from __future__ import annotations

import os

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout

from photofinder.library import PictureError, open_picture
from photofinder.gui.icons import icon
from photofinder.gui.region import RegionLabel
from photofinder.gui.thumbnails import pil_to_qimage
from photofinder.gui.signals import emit

PREVIEW_SIZE = 1600


class _Signals(QObject):
    done = Signal(str, object, str, str, object)  # path, QImage | None, details, error, size


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
            emit(self.signals.done, self.path, pil_to_qimage(img), details, "",
                 (decoded.width, decoded.height))
        except (PictureError, OSError) as e:
            emit(self.signals.done, self.path, None, "", str(e), None)


class PreviewDialog(QDialog):
    find_similar = Signal(str)
    find_region = Signal(str, object)  # path, (x, y, w, h) in its pixels as shown
    show_in_folder = Signal(str)
    open_external = Signal(str)
    navigate = Signal(int)  # -1 previous, +1 next
    shown = Signal(str)  # a photo's path, as the preview starts showing it (its tags are asked)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Preview")
        self.resize(1000, 760)
        self.path: str | None = None
        self._pixmap: QPixmap | None = None
        self._signals = _Signals(self)
        self._signals.done.connect(self._on_done)
        lay = QVBoxLayout(self)
        self.image = RegionLabel("Loading…")
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.image.setStyleSheet("background: #1f2329; color: #aab;")
        lay.addWidget(self.image, 1)
        self.caption = QLabel("")
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.caption)
        self.tags = QLabel("")  # what the photo shows to the model (search by words)
        self.tags.setWordWrap(True)
        self.tags.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tags.hide()
        lay.addWidget(self.tags)
        row = QHBoxLayout()
        for text, name, signal in (("Find similar", "find-similar", self.find_similar),
                                   ("Show in folder", "folder", self.show_in_folder),
                                   ("Open with default app", "open-external", self.open_external)):
            b = QPushButton(icon(name), text)
            b.clicked.connect(lambda _=False, s=signal: self.path and emit(s, self.path))
            row.addWidget(b)
            if signal is self.find_similar:
                self.find_button = b  # disabled, with the reason, while there is no model
                self.find_this = QPushButton(icon(name), "Find this")
                self.find_this.setToolTip("Find the photos that show the part you dragged over")
                self.find_this.setEnabled(False)
                self.find_this.clicked.connect(self._find_this)
                row.addWidget(self.find_this)
        self.image.region_changed.connect(lambda r: self.find_this.setEnabled(r is not None))
        row.addStretch()
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        row.addWidget(close)
        lay.addLayout(row)
        QShortcut(QKeySequence(Qt.Key.Key_Left), self, lambda: emit(self.navigate, -1))
        QShortcut(QKeySequence(Qt.Key.Key_Right), self, lambda: emit(self.navigate, 1))
        self.find_similar.connect(lambda _p: self.close())
        self.find_region.connect(lambda _p, _r: self.close())
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self._escape)

    def _find_this(self) -> None:
        if self.path and self.image.region is not None:
            emit(self.find_region, self.path, self.image.region)

    def _escape(self) -> None:
        if self.image.region is not None:
            self.image.clear_region()  # Esc first drops the rectangle, then closes
        else:
            self.close()

    def show_path(self, path: str) -> None:
        self.path = path
        self._pixmap = None
        self.setWindowTitle(os.path.basename(path))
        self.image.setPixmap(QPixmap())
        self.image.set_picture_size(None)
        self.image.setText("Loading…")
        self.caption.setText(path)
        self.tags.hide()
        QThreadPool.globalInstance().start(_Decode(path, self._signals))
        emit(self.shown, path)
        self.show()
        self.raise_()

    def _on_done(self, path: str, img, details: str, error: str, size=None) -> None:
        if path != self.path:
            return  # the user moved on
        if img is None:
            self.image.setText(f"This photo cannot be shown: {error}")
            return
        self._pixmap = QPixmap.fromImage(img)
        self.image.set_picture_size(size)
        self.caption.setText(f"{path}\n{details} · drag over a part of it to find just that")
        self._fit()

    def set_tags(self, path: str, tags: list[tuple[str, float]]) -> None:
        """The photo's tags (class name, probability), best first; none: nothing shown."""
        if path != self.path or not tags:
            return
        self.tags.setText("Shows: " + ", ".join(f"{name} ({p:.0%})" for name, p in tags))
        self.tags.setToolTip("What photofinder sees in this photo: search by these words "
                             "finds it")
        self.tags.show()

    def _fit(self) -> None:
        if self._pixmap is None:
            return
        dpr = self.devicePixelRatioF()
        target = QSize(self.image.width(), self.image.height()) * dpr
        pm = self._pixmap.scaled(target, Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
        pm.setDevicePixelRatio(dpr)
        self.image.setPixmap(pm)
        self.image.update()  # the rectangle follows the picture's new size

    def resizeEvent(self, e) -> None:
        super().resizeEvent(e)
        self._fit()
