"""The Library's core: opening (checks, recovery), the model and the index, the writer
lock, folders, scanning and indexing, status."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable

from filelock import FileLock, Timeout

from photofinder.dedup import recovery
from photofinder.dedup.cleanup import Step, no_step
from photofinder.dedup.recovery import Recovered
from photofinder.errors import PhotofinderError
from photofinder.pixels.embedding.model import Embedder
from photofinder.store.catalog import Catalog
from photofinder.store.index import VectorIndex, decode_vectors
from photofinder.store.records import Listing
from photofinder.work import scanner, watcher
from photofinder.work.indexer import BATCH, Indexer, Progress
from photofinder.library.errors import FolderInfo, LibraryBusy, LibraryError, normpath
from photofinder.library.tools import load_model


def _prepare_folder(path: Path) -> bool:
    """Make sure ``path`` can hold a library; returns whether it is read-only here. One-line
    errors: a file given as the library, a catalogue of 0 bytes (damaged: refused, never
    recreated empty), a folder that cannot be made."""
    if path.exists() and not path.is_dir():
        raise LibraryError(f"the library {path} is a file, not a folder (--library wants a folder)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise LibraryError(f"the library folder {path} cannot be made: {e.strerror or e}") from None
    catalog = path / "catalog.sqlite"
    # (a catalogue another process is creating this very moment is 0 bytes for a blink)
    if catalog.exists() and catalog.stat().st_size == 0 and not Path(f"{catalog}-wal").exists() \
            and (catalog.stat().st_mtime < time.time() - 10 or (path / "index.hnsw").exists()):
        raise LibraryError(f"the catalogue {catalog} is empty (0 bytes): it was damaged or cut "
                           "short. Restore it from a backup, or move it away to start afresh")
    try:
        read_only = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        read_only = False
    return read_only or not os.access(path, os.W_OK) or \
        (catalog.exists() and not os.access(catalog, os.W_OK))


class LibraryBase:
    def __init__(self, path: str | os.PathLike, embedder: Embedder | None = None,
                 provider: str | None = None, cleanup_steps: Step = no_step):
        """``cleanup_steps``: called at each named step of trash and undo (dedup/cleanup.py;
        fault injection hands one in, production never does)."""
        self.path = Path(normpath(path))
        self.cleanup_steps = cleanup_steps
        self.read_only = _prepare_folder(self.path)
        try:
            self.catalog = Catalog(self.path / "catalog.sqlite", read_only=self.read_only)
        except PhotofinderError as e:
            raise LibraryError(str(e)) from None
        self._embedder = embedder
        self._provider = provider
        self._index: VectorIndex | None = None
        self._lock: FileLock | None = None
        self._seen_version: int | None = None
        self.indexer: Indexer | None = None
        self.stop_checks = threading.Event()  # set by cancel_indexing: ends a check after it
        self.recovered = self._recover(wait=False)

    # -- resources ----------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_model(self._provider)
        return self._embedder

    @property
    def index(self) -> VectorIndex:
        if self._index is None:
            emb = self.embedder
            idx = VectorIndex(self.path / "index.hnsw", emb.dim, emb.model_id,
                              self.projection(), self.stored_vectors)
            labels = self.catalog.embeddings.labels(emb.model_id)
            idx.open(labels, lambda missing: decode_vectors(self.catalog.embeddings.vectors(missing)))
            self._index = idx
        return self._index

    def refresh(self) -> dict:
        """Catch up with what another process or thread committed to the catalogue (a reader
        beside a writer): adds new vectors to the in-memory index, drops removed ones."""
        if self._index is not None and self._index.space != self._projection_version():
            self._index = None  # the writer refitted the whitening: load the new index
        labels = set(self.catalog.embeddings.labels(self.embedder.model_id))
        return self.index.reconcile(labels, lambda m: decode_vectors(self.catalog.embeddings.vectors(m)))

    def catch_up(self) -> None:
        """``refresh()`` only when another connection has committed since the last time
        (SQLite's data_version says so without reading every label)."""
        version = self.catalog.data_version()
        if version != self._seen_version:
            self.refresh()
            self._seen_version = version

    def warm(self) -> int:
        """Load the model and the index before the first search needs them."""
        self.catch_up()
        return len(self.index)

    def lock(self) -> None:
        """Take the single-writer lock, or raise LibraryBusy."""
        if self._lock is not None:
            return
        if self.read_only:
            raise LibraryError(f"the library {self.path} is read-only here: it can be read "
                               "(status, similar, duplicates) but not changed")
        lock = FileLock(self.path / "write.lock", timeout=0, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            raise LibraryBusy(f"the library {self.path} is being updated by another photofinder "
                              "process; try again when it has finished") from None
        self._lock = lock

    def _recover(self, wait: bool = True) -> Recovered | None:
        """Settle what an interrupted clean-up left open (dedup/recovery.py). Before any
        trash or undo (``wait``: under the writer lock), and on open when the lock is free."""
        if self.read_only or not self.catalog.journal.has_open():
            return None
        held = self._lock is not None
        try:
            self.lock()
        except LibraryBusy:
            if wait:
                raise
            return None  # the writer that holds it may be mid-batch: never touch its rows
        try:
            done = recovery.recover(self.catalog)
        except (OSError, sqlite3.Error) as e:
            raise LibraryError(f"an interrupted clean-up cannot be settled: {e}") from None
        finally:
            if not held and self._lock is not None:
                self._lock.release()
                self._lock = None
        if done.removed_labels and self._index is not None:
            self._index.remove(done.removed_labels)
        return done

    def close(self) -> None:
        if self._index is not None and self._lock is not None:
            self._index.save()
        self.catalog.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- folders ------------------------------------------------------------------------
    def add_folder(self, folder: str | os.PathLike) -> FolderInfo:
        path = normpath(folder)
        if not os.path.isdir(path):
            raise LibraryError(f"not a folder: {path}")
        self.lock()
        row = self.catalog.folders.add(path, os.path.realpath(path))
        return next(f for f in self.folders() if f.id == row.id)

    def remove_folder(self, folder: str | os.PathLike) -> int:
        path = normpath(folder)
        row = self.catalog.folders.by_path(path)
        if row is None:
            raise LibraryError(f"not a folder of this library: {path}")
        self.lock()
        count = self.catalog.folders.photo_counts().get(row.id, 0)
        labels = self.catalog.folders.remove(row.id)
        if labels:
            self.index.remove(labels)
            self.index.save()
        return count

    def folders(self) -> list[FolderInfo]:
        counts = self.catalog.folders.photo_counts()
        return [FolderInfo(f.id, f.path, f.online and os.path.isdir(f.path), counts.get(f.id, 0))
                for f in self.catalog.folders.all()]

    # -- indexing -----------------------------------------------------------------------
    def _catalog_folders(self, folders: list[FolderInfo] | None):
        if folders is None:
            return None
        wanted = {f.id for f in folders}
        return [f for f in self.catalog.folders.all() if f.id in wanted]

    def scan(self, folders: list[FolderInfo] | None = None,
             progress: Callable[[str], None] | None = None, settle: float = 0.0
             ) -> scanner.ScanReport:
        self.lock()
        self.catalog.photos.requeue_other_models(self.embedder.model_id)
        report = scanner.scan(self.catalog, self._catalog_folders(folders), progress,
                              settle=settle)
        if report.removed_labels:
            self.index.remove(report.removed_labels)
        return report

    def counts(self) -> dict[str, int]:
        """Photos by state: {"indexed", "pending", "failed"}."""
        return self.catalog.photos.counts()

    def index_pending(self, progress: Callable[[Progress], None] | None = None) -> Progress:
        self.lock()
        self.stop_checks.clear()
        emb = self.embedder  # decode workers and batch size suit its provider (CPU or a GPU)
        self.indexer = Indexer(self.catalog, self.index, emb,
                               workers=getattr(emb, "decode_workers", None),
                               batch=getattr(emb, "batch_size", BATCH))
        try:
            done = self.indexer.run(progress)
        finally:
            self.indexer = None
        self.refit_projection()
        return done

    def update(self, progress: Callable[[Progress], None] | None = None,
               folders: list[FolderInfo] | None = None, settle: float = 0.0,
               duplicates: bool = True) -> tuple[scanner.ScanReport, Progress]:
        """Scan, index what is pending, then (``duplicates``) check what was indexed for
        duplicates (``check_duplicates``), so they are known before anyone asks."""
        report = self.scan(folders, settle=settle)
        done = self.index_pending(progress)
        if duplicates and self.check_due(done):
            self.check_duplicates()
        return report, done

    def check_due(self, done: Progress) -> bool:
        """Whether indexing that ended with ``done`` is followed by the duplicates check:
        something new was indexed and ``cancel_indexing`` was not asked for."""
        return done.done > done.failed and not self.stop_checks.is_set()

    def pause_indexing(self) -> None:
        if self.indexer is not None:
            self.indexer.pause()

    def resume_indexing(self) -> None:
        if self.indexer is not None:
            self.indexer.resume()

    def cancel_indexing(self) -> None:
        self.stop_checks.set()
        if self.indexer is not None:
            self.indexer.cancel()

    def watch(self, log: Callable[[str], None], settle: float = 2.0,
              stop: threading.Event | None = None) -> None:
        """Headless watching: catch up, then index every burst of changes until ``stop``."""
        self.lock()
        watcher.watch_forever(lambda: self.update(settle=settle),
                              [f.path for f in self.folders()], log, settle=settle, stop=stop)

    # -- what is in it --------------------------------------------------------------------
    def status(self) -> dict:
        counts = self.catalog.photos.counts()
        try:
            model, provider = self.embedder.model_id, self.embedder.provider
        except LibraryError as e:  # say why: a missing model, or a provider that cannot run
            from photofinder.pixels.embedding.model import BUILD_HINT

            model, provider = ("not built", "none") if str(e) == BUILD_HINT else \
                ("unavailable", f"unavailable: {e}")
        return {
            "photos": {"indexed": counts["indexed"], "pending": counts["pending"],
                       "failed": counts["failed"]},
            "errors": [{"path": e.path, "error": e.error} for e in self.catalog.photos.errors()],
            "folders": [{"path": f.path, "online": f.online, "photos": f.photos}
                        for f in self.folders()],
            "model": model,
            "provider": provider,
            "projection": self.projection_status(),
        }

    def listing(self) -> list[Listing]:
        """Every catalogued photo, by path."""
        return list(self.catalog.photos.listing())
