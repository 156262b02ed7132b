"""Thumbnails off the UI thread, cached on disk and in memory.

``ThumbnailLoader.get(path)`` answers at once: the pixmap when it is in memory, else ``None``
after queueing a job. Jobs run on a QThreadPool: read the disk cache
(``<library>/thumbs/ab/<key>.jpg``, keyed by path, size and mtime, so an edited file gets a
new thumbnail) or decode the photo with ``library.thumbnail`` and write the cache; the QImage
comes back through a queued signal and ``ready(path)`` tells the views to repaint. The newest
requests run first (what is on screen now), and requests that scrolled away long ago are
dropped.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

from photofinder.library import PictureError, thumbnail
from photofinder.gui.signals import emit

SIZE = 256  # pixels, longer side, on disk
MEMORY_BYTES = 96 << 20  # pixmaps kept in memory
MAX_PENDING = 240  # requests waiting; older ones are dropped


def cache_key(path: str, size: int = SIZE) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    raw = f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0{size}".encode("utf-8", "surrogateescape")
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def pil_to_qimage(img) -> QImage:
    img = img.convert("RGB")
    data = img.tobytes()
    return QImage(data, img.width, img.height, 3 * img.width, QImage.Format.Format_RGB888).copy()


def load_thumbnail(path: str, cache_dir: str | None, size: int = SIZE) -> tuple[QImage | None, str]:
    """Worker side: (image, "") or (None, reason). Never raises for a bad file."""
    key = cache_key(path, size)
    if key is None:
        return None, "file not found"
    cached = os.path.join(cache_dir, key[:2], key + ".jpg") if cache_dir else None
    if cached and os.path.exists(cached):
        img = QImage(cached)
        if not img.isNull():
            return img, ""
    try:
        pil = thumbnail(path, size)
    except PictureError as e:
        return None, str(e)
    except Exception as e:  # a decoder bug: a broken thumbnail, not a crash
        return None, f"{type(e).__name__}: {e}"
    if cached:
        try:
            os.makedirs(os.path.dirname(cached), exist_ok=True)
            tmp = f"{cached}.{os.getpid()}.tmp"
            pil.convert("RGB").save(tmp, "JPEG", quality=87)
            os.replace(tmp, cached)
        except OSError:
            pass  # a read-only library still shows thumbnails
    return pil_to_qimage(pil), ""


class _Bridge(QObject):
    done = Signal(str, object, str)  # path, QImage | None, error


class _Runner(QRunnable):
    """Takes the newest wanted path until none is left (what is on screen now goes first)."""

    def __init__(self, loader: "ThumbnailLoader"):
        super().__init__()
        self.loader = loader
        self.bridge = loader._bridge  # keep a strong reference for the worker thread

    def run(self) -> None:
        while True:
            path = self.loader._take()
            if path is None:
                return
            img, err = load_thumbnail(path, self.loader.cache_dir, self.loader.size)
            emit(self.bridge.done, path, img, err)


class ThumbnailLoader(QObject):
    """(QThreadPool.tryTake is not used: in PySide6 6.12 its True result is under-counted.)"""

    ready = Signal(str)  # path: its pixmap (or its failure) is now known

    def __init__(self, cache_dir: str | None, size: int = SIZE, threads: int | None = None,
                 parent=None):
        super().__init__(parent)
        self.cache_dir = cache_dir
        self.size = size
        self.threads = threads or max(2, min(4, (os.cpu_count() or 2)))
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(self.threads)
        self._memory: OrderedDict[str, QPixmap] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._wanted: OrderedDict[str, None] = OrderedDict()  # newest last
        self._running: set[str] = set()
        self._runners = 0
        self.failed: dict[str, str] = {}
        self._bridge = _Bridge()
        self._bridge.done.connect(self._on_done)

    def get(self, path: str) -> QPixmap | None:
        pm = self._memory.get(path)
        if pm is not None:
            self._memory.move_to_end(path)
            return pm
        if path not in self.failed:
            self._want(path)
        return None

    def _want(self, path: str) -> None:
        with self._lock:
            if path in self._running:
                return
            self._wanted[path] = None
            self._wanted.move_to_end(path)
            while len(self._wanted) > MAX_PENDING:  # scrolled away long ago
                self._wanted.popitem(last=False)
            start = self._runners < self.threads
            if start:
                self._runners += 1
        if start:
            self.pool.start(_Runner(self))

    def _take(self) -> str | None:  # worker side
        with self._lock:
            if not self._wanted:
                self._runners -= 1
                return None
            path, _ = self._wanted.popitem(last=True)
            self._running.add(path)
            return path

    def pending(self) -> int:
        with self._lock:
            return len(self._wanted) + len(self._running)

    def _on_done(self, path: str, img, err: str) -> None:
        with self._lock:
            self._running.discard(path)
        if img is None:
            self.failed[path] = err or "cannot be shown"
        else:
            pm = QPixmap.fromImage(img)
            old = self._memory.pop(path, None)
            if old is not None:
                self._bytes -= _cost(old)
            self._memory[path] = pm
            self._bytes += _cost(pm)
            while self._bytes > MEMORY_BYTES and len(self._memory) > 1:
                _, gone = self._memory.popitem(last=False)
                self._bytes -= _cost(gone)
        emit(self.ready, path)

    def forget(self, path: str) -> None:
        pm = self._memory.pop(path, None)
        if pm is not None:
            self._bytes -= _cost(pm)
        self.failed.pop(path, None)

    def shutdown(self) -> None:
        with self._lock:
            self._wanted.clear()
        self.pool.waitForDone(5000)


def _cost(pm: QPixmap) -> int:
    return pm.width() * pm.height() * 4
