"""The bridges between the Qt event loop and the core: two threads, each with its own Library.

- ``IndexWorker`` owns the writer: adding and removing folders, scanning, indexing (with
  progress, pause, resume). It opens the writer Library when work arrives and closes it when
  the queue runs dry, so the write lock (and the writer's copy of the index) is held only
  while there is something to write.
- ``QueryWorker`` owns a reader Library: the photo table, similar-photo searches, status,
  duplicates. It calls ``refresh()`` before each query, so search works on what the writer
  has already committed while indexing goes on.

Both run a plain command queue; results come back as signals (queued to the UI thread).
The UI thread never touches a Library.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QThread, Signal

from photofinder import demo
from photofinder.store.catalog import CatalogError
from photofinder.library import Library, LibraryBusy, LibraryError
from photofinder.gui.signals import emit

log = logging.getLogger(__name__)

_embedder_lock = threading.Lock()
_open_lock = threading.Lock()  # a fresh catalogue is created once, not by both threads at once
_embedders: dict[str | None, Any] = {}


def shared_embedder(provider: str | None):
    """One ONNX session for both threads (onnxruntime's run() is thread-safe)."""
    from photofinder.pixels.embedding.model import Embedder, ModelError

    with _embedder_lock:
        if provider not in _embedders:
            try:
                _embedders[provider] = Embedder(provider=provider)
            except ModelError as e:
                raise LibraryError(str(e)) from None
        return _embedders[provider]


class _QueueThread(QThread):
    """A thread that runs commands from a queue; ``stop()`` ends it after the current one."""

    failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._queue: queue.Queue = queue.Queue()
        self._stopping = False

    def submit(self, name: str, *args) -> None:
        self._queue.put((name, args))

    def stop(self, wait_ms: int = 10000) -> None:
        self._stopping = True
        self._queue.put(None)
        self.wait(wait_ms)

    def _next_batch(self, timeout: float | None) -> list | None:
        """The queued commands, with repeats of the same command collapsed to the last one."""
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return []
        items = [first]
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if None in items:
            return None
        out: dict[str, tuple] = {}
        for name, args in items:
            if name in self.COLLAPSE:
                out.pop(name, None)
                out[name] = args
            else:
                out[f"{name}#{len(out)}"] = args
        return [(k.split("#")[0], a) for k, a in out.items()]

    COLLAPSE: frozenset = frozenset()


class IndexWorker(_QueueThread):
    """Writes: folders, scan, index. Commands: add_folder, add_demo, remove_folder, update."""

    COLLAPSE = frozenset({"update"})
    phase = Signal(str)  # "scanning", "indexing", "idle", "paused"
    progress = Signal(object)  # indexer.Progress
    changed = Signal()  # folders or photos changed: reload the photo table
    indexed = Signal()  # a batch of vectors was committed: searches see more
    busy = Signal(str)  # another process holds the write lock
    cleaned = Signal(str, object)  # "trash" TrashReport | "undo" [paths] | "keep"/"not_dup" None

    def __init__(self, library_path: str, provider: str | None = None, parent=None):
        super().__init__(parent)
        self.library_path = library_path
        self.provider = provider
        self._lib: Library | None = None
        self._paused = False
        self._last_emit = 0.0

    # -- called from the UI thread --------------------------------------------------------
    def pause(self) -> None:
        self._paused = True
        lib = self._lib
        if lib is not None and lib.indexer is not None:
            lib.indexer.pause()
        emit(self.phase, "paused")

    def resume(self) -> None:
        self._paused = False
        lib = self._lib
        if lib is not None and lib.indexer is not None:
            lib.indexer.resume()
        emit(self.phase, "indexing")

    @property
    def paused(self) -> bool:
        return self._paused

    def stop(self, wait_ms: int = 15000) -> None:
        self._stopping = True
        lib = self._lib
        if lib is not None and lib.indexer is not None:
            lib.indexer.cancel()
        super().stop(wait_ms)

    # -- the thread -----------------------------------------------------------------------
    def _library(self) -> Library:
        if self._lib is None:
            emb = shared_embedder(self.provider)
            with _open_lock:
                self._lib = Library(self.library_path, embedder=emb)
        return self._lib

    def _close(self) -> None:
        if self._lib is not None:
            try:
                self._lib.close()
            finally:
                self._lib = None

    def run(self) -> None:
        while True:
            batch = self._next_batch(timeout=None if self._lib is None else 0.5)
            if batch is None:
                break
            if not batch:  # idle: let go of the writer (lock and index memory)
                self._close()
                continue
            for name, args in batch:
                if self._stopping:
                    break
                try:
                    getattr(self, f"_do_{name}")(*args)
                except LibraryBusy as e:
                    self._close()
                    emit(self.busy, str(e))
                except (LibraryError, CatalogError) as e:
                    emit(self.failed, str(e))
                except Exception as e:  # a bug must not kill the worker silently
                    log.exception("index worker: %s failed", name)
                    emit(self.failed, f"{name} failed: {type(e).__name__}: {e}")
            emit(self.phase, "idle")
        self._close()

    def _do_add_folder(self, path: str) -> None:
        lib = self._library()
        row = lib.add_folder(path)
        emit(self.changed)
        self._update(lib, [f for f in lib.folders() if f["id"] == row["id"]])

    def _do_add_demo(self) -> None:
        folder = demo.materialise()
        self._do_add_folder(str(folder))

    def _do_remove_folder(self, path: str) -> None:
        lib = self._library()
        lib.remove_folder(path)
        if demo.is_demo_folder(path):
            demo.remove(path)
        emit(self.changed)

    def _do_trash(self, paths: list[str], groups=None) -> None:
        from photofinder.dedup import finder as duplicates

        try:
            report = duplicates.trash(self._library(), paths, groups)
        except duplicates.CleanupError as e:
            raise LibraryError(str(e)) from None
        emit(self.cleaned, "trash", report)
        emit(self.changed)

    def _do_undo(self) -> None:
        from photofinder.dedup import finder as duplicates

        try:
            restored = duplicates.undo(self._library())
        except duplicates.CleanupError as e:
            raise LibraryError(str(e)) from None
        emit(self.cleaned, "undo", restored)
        emit(self.changed)

    def _do_keep(self, path: str) -> None:
        from photofinder.dedup import finder as duplicates

        duplicates.choose_keeper(self._library(), path)
        emit(self.cleaned, "keep", path)

    def _do_not_duplicates(self, a: str, b: str) -> None:
        from photofinder.dedup import finder as duplicates

        duplicates.mark_not_duplicates(self._library(), a, b)
        emit(self.cleaned, "not_duplicates", (a, b))

    def _do_update(self) -> None:
        lib = self._library()
        if lib.catalog.folders():
            self._update(lib, None)

    def _update(self, lib: Library, folders: list[dict] | None) -> None:
        emit(self.phase, "scanning")
        report = lib.scan(folders)
        if report.new or report.changed or report.moved or report.deleted:
            emit(self.changed)
        if not lib.catalog.counts()["pending"]:
            return  # nothing to embed: do not load the writer's copy of the index
        emit(self.phase, "paused" if self._paused else "indexing")
        self._last_emit = 0.0
        final = lib.index_pending(self._on_progress)
        emit(self.progress, final)
        emit(self.indexed)
        emit(self.changed)

    def _on_progress(self, p) -> None:
        lib = self._lib
        if self._paused and lib is not None and lib.indexer is not None:
            lib.indexer.pause()  # a pause asked for before this run's indexer existed
        now = time.monotonic()
        if now - self._last_emit >= 0.1 or p.done == p.total:
            self._last_emit = now
            emit(self.progress, p)
            emit(self.indexed)


class QueryWorker(_QueueThread):
    """Reads. Each command ``name(*args)`` answers with ``answered(name, token, result)``."""

    COLLAPSE = frozenset({"photos", "status", "similar", "duplicates"})
    answered = Signal(str, object, object)  # name, token, result

    def __init__(self, library_path: str, provider: str | None = None, parent=None):
        super().__init__(parent)
        self.library_path = library_path
        self.provider = provider
        self._lib: Library | None = None
        self.handlers: dict[str, Callable] = {}

    def ask(self, name: str, token: Any = None, *args) -> None:
        self.submit(name, token, *args)

    def _library(self) -> Library:
        if self._lib is None:
            try:
                emb = shared_embedder(self.provider)
            except LibraryError:  # no model yet: browsing works, searching says why not
                emb = None
            with _open_lock:
                self._lib = Library(self.library_path, embedder=emb, provider=self.provider)
        return self._lib

    def run(self) -> None:
        from photofinder.gui import queries  # Qt-free query functions

        while True:
            batch = self._next_batch(timeout=None)
            if batch is None:
                break
            for name, (token, *args) in batch:
                try:
                    result = getattr(queries, name)(self._library(), *args)
                except (LibraryError, CatalogError) as e:
                    result = queries.Failure(str(e))
                except Exception as e:
                    log.exception("query worker: %s failed", name)
                    result = queries.Failure(f"{type(e).__name__}: {e}")
                emit(self.answered, name, token, result)
        if self._lib is not None:
            self._lib.close()
            self._lib = None
