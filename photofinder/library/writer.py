"""One process writes a library at a time: the writer lock (``write.lock`` beside the
catalogue), and the checks a library folder passes before it is opened."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from filelock import FileLock, Timeout

from photofinder.library.errors import LibraryBusy, LibraryError
from photofinder.library.space import VectorSpace


def prepare_folder(path: Path) -> bool:
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


class Writer:
    """The single-writer lock of the library in ``folder``: every write happens inside
    ``held()``, which takes ``write.lock`` for as long as the write lasts (a batch of
    indexing, a clean-up, a choice), so another process's trash or undo waits for one write,
    not for a whole watch. Re-entrant: a write inside a write holds it once. As the
    outermost write ends, the index (derived, but saved only by a writer) is saved."""

    def __init__(self, folder: Path, read_only: bool, space: VectorSpace,
                 patience: float = 0):
        """``patience``: seconds a write that names no wait of its own waits for the lock.
        0 (the CLI): a busy library says so at once. The GUI's threads wait: their other
        holder is most often the app's own other thread, done in one write."""
        self.folder = folder
        self.read_only = read_only
        self.space = space
        self.patience = patience
        self._lock: FileLock | None = None
        self._depth = 0

    @property
    def holds(self) -> bool:
        return self._lock is not None

    def check(self) -> None:
        """LibraryError when this library cannot be written here (a read-only folder)."""
        if self.read_only:
            raise LibraryError(f"the library {self.folder} is read-only here: it can be read "
                               "(status, similar, duplicates) but not changed")

    @contextmanager
    def held(self, wait: float | None = None) -> Iterator[None]:
        """Hold the lock for the block: LibraryBusy when another holder keeps it for more
        than ``wait`` seconds (None: ``patience``; -1: as long as it takes), LibraryError
        when read-only."""
        if self._depth == 0:
            self._take(self.patience if wait is None else wait)
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._release()

    def _take(self, wait: float) -> None:
        self.check()
        lock = FileLock(self.folder / "write.lock", timeout=wait, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            raise LibraryBusy(f"the library {self.folder} is being updated by another "
                              "photofinder process; try again when it has finished") from None
        self._lock = lock

    def _release(self) -> None:
        try:
            self.space.save()
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None
