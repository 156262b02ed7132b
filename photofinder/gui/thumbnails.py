"""Thumbnails off the UI thread, cached on disk and in memory.

``ThumbnailLoader.get(path)`` answers at once: the pixmap when it is in memory, else ``None``
after queueing a job. Jobs run on a QThreadPool: read the disk cache
(``<library>/thumbs/ab/<key>.jpg``, keyed by path, size and mtime, so an edited file gets a
new thumbnail) or decode the photo with ``imaging.thumbnail`` and write the cache; the QImage
comes back through a queued signal and ``ready(path)`` tells the views to repaint. The newest
requests run first (what is on screen now), and requests that scrolled away are dropped.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

from photofinder import imaging

SIZE = 256  # pixels, longer side, on disk
MEMORY_BYTES = 96 << 20  # pixmaps kept in memory
MAX_PENDING = 240  # requests waiting; older ones are dropped (they scrolled away)


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
        pil = imaging.thumbnail(path, size)
    except imaging.ImageError as e:
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


class _Job(QRunnable):
    def __init__(self, path: str, cache_dir: str | None, size: int, bridge: _Bridge):
        super().__init__()
        self.setAutoDelete(False)
        self.path, self.cache_dir, self.size, self.bridge = path, cache_dir, size, bridge

    def run(self) -> None:
        img, err = load_thumbnail(self.path, self.cache_dir, self.size)
        self.bridge.done.emit(self.path, img, err)


class ThumbnailLoader(QObject):
    ready = Signal(str)  # path: its pixmap (or its failure) is now known

    def __init__(self, cache_dir: str | None, size: int = SIZE, threads: int | None = None,
                 parent=None):
        super().__init__(parent)
        self.cache_dir = cache_dir
        self.size = size
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads or max(2, min(4, (os.cpu_count() or 2))))
        self._memory: OrderedDict[str, QPixmap] = OrderedDict()
        self._bytes = 0
        self._pending: OrderedDict[str, _Job] = OrderedDict()
        self._counter = 0
        self.failed: dict[str, str] = {}
        self._bridge = _Bridge()
        self._bridge.done.connect(self._on_done)

    def get(self, path: str) -> QPixmap | None:
        pm = self._memory.get(path)
        if pm is not None:
            self._memory.move_to_end(path)
            return pm
        if path in self.failed:
            return None
        job = self._pending.get(path)
        if job is not None:  # still wanted: move it to the front of the line
            if self.pool.tryTake(job):
                self._counter += 1
                self.pool.start(job, self._counter)
            self._pending.move_to_end(path)
            return None
        self._request(path)
        return None

    def _request(self, path: str) -> None:
        job = _Job(path, self.cache_dir, self.size, self._bridge)
        self._pending[path] = job
        self._counter += 1
        self.pool.start(job, self._counter)  # higher priority first: newest first
        while len(self._pending) > MAX_PENDING:
            old_path, old = next(iter(self._pending.items()))
            if self.pool.tryTake(old):
                del self._pending[old_path]
            else:
                break  # running now; it will finish

    def _on_done(self, path: str, img, err: str) -> None:
        self._pending.pop(path, None)
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
        self.ready.emit(path)

    def forget(self, path: str) -> None:
        pm = self._memory.pop(path, None)
        if pm is not None:
            self._bytes -= _cost(pm)
        self.failed.pop(path, None)

    def shutdown(self) -> None:
        self.pool.clear()
        self.pool.waitForDone(5000)


def _cost(pm: QPixmap) -> int:
    return pm.width() * pm.height() * 4
