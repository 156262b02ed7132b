"""The bridges between the Qt event loop and the core: two threads, each with its own Library.

- ``IndexWorker`` owns the writer: adding and removing folders, scanning, indexing (with
  progress, pause, resume). It opens the writer Library when work arrives and closes it when
  the queue runs dry, so the write lock (and the writer's copy of the index) is held only
  while there is something to write.
- ``QueryWorker`` owns a reader Library: the photo table, similar-photo searches, status,
  duplicates. It calls ``refresh()`` before each query, so search works on what the writer
  has already committed while indexing goes on.

Both run a plain queue of jobs (callables with their arguments). The writer reports through
its signals; each question to the reader is a ``Request`` that carries its own ``reply``,
called on the UI thread with the answer (so answers need no routing by job). The UI thread
never touches a Library.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Hashable

from PySide6.QtCore import QThread, Signal

from photofinder import demo
from photofinder.errors import PhotofinderError
from photofinder.gui import queries
from photofinder.gui.signals import emit
from photofinder.library import (FolderInfo, Library, LibraryBusy, ModelError, build_model,
                                 load_model)

log = logging.getLogger(__name__)

_embedder_lock = threading.Lock()
_open_lock = threading.Lock()  # a fresh catalogue is created once, not by both threads at once
# Seconds a write of the app waits for the write lock. Its other holder is most often the app's
# own other thread (the reader stores a duplicates check as the user presses Delete): one
# write, soon done. Waiting, the user's trash or undo is never lost to a moment's overlap.
LOCK_WAIT = 20.0
_embedders: dict[str | None, Any] = {}


def shared_embedder(provider: str | None):
    """One ONNX session for both threads (onnxruntime's run() is thread-safe)."""
    with _embedder_lock:
        if provider not in _embedders:
            _embedders[provider] = load_model(provider)
        return _embedders[provider]


class _QueueThread(QThread):
    """A thread that runs jobs (callables) from a queue; ``stop()`` ends it after the current
    one. Items with the same ``_key`` queued again before they ran run once, the last one."""

    failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._queue: queue.Queue = queue.Queue()
        self._stopping = False

    def _put(self, item) -> None:
        self._queue.put(item)

    def stop(self, wait_ms: int = 10000) -> None:
        self._stopping = True
        self._queue.put(None)
        self.wait(wait_ms)

    def _next_batch(self, timeout: float | None) -> list | None:
        """The queued jobs, with repeats of a collapsing job collapsed to the last one."""
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
        out: dict[Any, Any] = {}
        for item in items:
            key = self._key(item)
            key = object() if key is None else key  # (None: never collapsed)
            out.pop(key, None)
            out[key] = item
        return list(out.values())

    def _key(self, item) -> Hashable | None:
        """Items with the same key collapse to the last one queued; None: never."""
        return None


class IndexWorker(_QueueThread):
    """Writes: folders, scan, index, clean-up. Jobs are its ``do_*`` methods, submitted
    bound: ``worker.submit(worker.do_add_folder, path)``."""

    phase = Signal(str)  # "scanning", "indexing", "idle", "paused", "duplicates"
    progress = Signal(object)  # indexer.Progress
    checking = Signal(str, int, int)  # the duplicates check after indexing: stage, done, total
    checked = Signal()  # that check is through: stored duplicates results are current
    changed = Signal()  # folders or photos changed: reload the photo table
    indexed = Signal()  # a batch of vectors was committed: searches see more
    busy = Signal(str)  # another process holds the write lock
    cleaned = Signal(str, object)  # "trash" TrashReport | "undo" [paths] | "keep"/"not_dup" None
    needs_model = Signal(str)  # photos wait to be indexed: there is no model (why)
    building = Signal(str)  # "Build the model": a step of it
    built = Signal(str)  # the model is built (its description); indexing goes on

    COLLAPSE: frozenset = frozenset()  # jobs queued again before they ran run once (__func__)

    def __init__(self, library_path: str, provider: str | None = None, parent=None):
        super().__init__(parent)
        self.library_path = library_path
        self.provider = provider
        self._lib: Library | None = None
        self._paused = False
        self._last_emit = 0.0

    # -- called from the UI thread --------------------------------------------------------
    def submit(self, job: Callable, *args) -> None:
        self._put((job, args))

    def _key(self, item) -> Hashable | None:
        job, _args = item
        return job if getattr(job, "__func__", job) in self.COLLAPSE else None

    def pause(self) -> None:
        self._paused = True
        lib = self._lib
        if lib is not None:
            lib.pause_indexing()
        emit(self.phase, "paused")

    def resume(self) -> None:
        self._paused = False
        lib = self._lib
        if lib is not None:
            lib.resume_indexing()
        emit(self.phase, "indexing")

    @property
    def paused(self) -> bool:
        return self._paused

    def stop(self, wait_ms: int = 15000) -> None:
        self._stopping = True
        lib = self._lib
        if lib is not None:
            lib.cancel_indexing()
        super().stop(wait_ms)

    # -- the thread -----------------------------------------------------------------------
    def _library(self) -> Library:
        if self._lib is None:
            try:
                emb = shared_embedder(self.provider)
            except ModelError:  # no model yet: folders are added and listed, not indexed
                emb = None
            with _open_lock:
                self._lib = Library(self.library_path, embedder=emb, provider=self.provider,
                                    lock_wait=LOCK_WAIT)
        return self._lib

    def _model_missing(self) -> str | None:
        """Why photos cannot be indexed now (no model built, or one that cannot run)."""
        try:
            shared_embedder(self.provider)
            return None
        except ModelError as e:
            return str(e)

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
            for job, args in batch:
                if self._stopping:
                    break
                try:
                    job(*args)
                except LibraryBusy as e:
                    self._close()
                    emit(self.busy, str(e))
                except PhotofinderError as e:
                    emit(self.failed, str(e))
                except Exception as e:  # a bug must not kill the worker silently
                    name = getattr(job, "__name__", "a job").removeprefix("do_")
                    log.exception("index worker: %s failed", name)
                    emit(self.failed, f"{name} failed: {type(e).__name__}: {e}")
            emit(self.phase, "idle")
        self._close()

    def do_add_folder(self, path: str) -> None:
        lib = self._library()
        folder = lib.add_folder(path)
        emit(self.changed)
        self._update(lib, [folder])

    def do_add_demo(self) -> None:
        folder = demo.materialise()
        self.do_add_folder(str(folder))

    def do_remove_folder(self, path: str) -> None:
        lib = self._library()
        lib.remove_folder(path)
        if demo.is_demo_folder(path):
            demo.remove(path)
        emit(self.changed)

    def do_build_model(self) -> None:
        """Build the model (torch exports it once); then index what waits."""
        emit(self.phase, "building")
        manifest = build_model(progress=lambda m: emit(self.building, m))
        with _embedder_lock:
            _embedders.pop(self.provider, None)
        self._close()  # the next Library takes the new model
        emit(self.built, f"The model is built ({manifest.get('name', 'the model')})")
        self.do_update()

    def do_trash_photos(self, paths: list[str]) -> None:
        report = self._library().trash_photos(paths)
        emit(self.cleaned, "trash", report)
        emit(self.changed)

    def do_trash(self, paths: list[str], groups=None) -> None:
        lib = self._library()
        report = lib.trash(paths, groups if groups is not None else lib.find_duplicates().groups)
        emit(self.cleaned, "trash", report)
        emit(self.changed)

    def do_undo(self) -> None:
        restored = self._library().undo()
        emit(self.cleaned, "undo", restored)
        emit(self.changed)

    def do_keep(self, path: str) -> None:
        self._library().keep(path)
        emit(self.cleaned, "keep", path)

    def do_not_duplicates(self, a: str, b: str) -> None:
        self._library().not_duplicates(a, b)
        emit(self.cleaned, "not_duplicates", (a, b))

    def do_update(self) -> None:
        lib = self._library()
        if lib.folders():
            self._update(lib, None)

    def _update(self, lib: Library, folders: list[FolderInfo] | None) -> None:
        emit(self.phase, "scanning")
        report = lib.scan(folders)
        if report.new or report.changed or report.moved or report.deleted:
            emit(self.changed)
        if not lib.counts()["pending"]:
            return  # nothing to embed: do not load the writer's copy of the index
        missing = self._model_missing()
        if missing:
            emit(self.needs_model, missing)
            return
        emit(self.phase, "paused" if self._paused else "indexing")
        self._last_emit = 0.0
        final = lib.index_pending(self._on_progress)
        emit(self.progress, final)
        emit(self.indexed)
        emit(self.changed)
        if not self._stopping and lib.check_due(final):
            emit(self.phase, "duplicates")  # the new photos' duplicate pairs, checked now
            if lib.check_duplicates(lambda stage, done, total:
                                    emit(self.checking, stage, done, total)) is not None:
                emit(self.checked)

    def _on_progress(self, p) -> None:
        lib = self._lib
        if self._paused and lib is not None:
            lib.pause_indexing()  # a pause asked for before this run's indexer existed
        now = time.monotonic()
        if now - self._last_emit >= 0.1 or p.done == p.total:
            self._last_emit = now
            emit(self.progress, p)
            emit(self.indexed)


@dataclass(eq=False)
class Request:
    """One question for the reader: ``job(library, *args)`` (a plain function of a Library,
    no Qt), answered by ``reply(result)`` on the UI thread; the result is a
    ``queries.Failure`` when the job failed. ``key``: a newer request with the same key
    replaces this one while it still waits in the queue (its reply is then never called);
    None, never replaced."""
    job: Callable[..., Any]
    args: tuple
    reply: Callable[[Any], object]
    key: Hashable | None = None


class QueryWorker(_QueueThread):
    """Reads. ``ask(job, *args, reply=...)`` queues a ``Request``; its answer goes to its own
    ``reply``, whoever asked."""

    answered = Signal(object, object)  # Request, result (delivered to request.reply)

    def __init__(self, library_path: str, provider: str | None = None, parent=None):
        super().__init__(parent)
        self.library_path = library_path
        self.provider = provider
        self._lib: Library | None = None
        # (this object lives on the UI thread: the emit from run() is queued to it)
        self.answered.connect(self._deliver)

    def ask(self, job: Callable, *args, reply: Callable[[Any], object],
            key: Hashable | None = None) -> Request:
        request = Request(job, args, reply, key)
        self._put(request)
        return request

    def _key(self, item) -> Hashable | None:
        return item.key

    def _deliver(self, request: Request, result) -> None:
        request.reply(result)

    def _library(self) -> Library:
        if self._lib is None:
            try:
                emb = shared_embedder(self.provider)
            except ModelError:  # no model yet: browsing works, searching says why not
                emb = None
            with _open_lock:
                self._lib = Library(self.library_path, embedder=emb, provider=self.provider,
                                    lock_wait=LOCK_WAIT)
        return self._lib

    def run(self) -> None:
        while True:
            batch = self._next_batch(timeout=None)
            if batch is None:
                break
            for request in batch:
                try:
                    result = request.job(self._library(), *request.args)
                except PhotofinderError as e:
                    result = queries.Failure(str(e))
                except Exception as e:
                    log.exception("query worker: %s failed", request.job.__name__)
                    result = queries.Failure(f"{type(e).__name__}: {e}")
                emit(self.answered, request, result)
        if self._lib is not None:
            self._lib.close()
            self._lib = None


IndexWorker.COLLAPSE = frozenset({IndexWorker.do_update})
