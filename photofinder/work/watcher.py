"""Folder watching: watchdog events -> debounced bursts -> scan + index.

Events are collected until the folders have been quiet for ``quiet`` seconds (a camera import
of 500 files is one burst), or ``max_wait`` has passed. Files modified in the last
``settle`` seconds are still being written: the scan skips them and the watcher looks again.
When the OS refuses more watches (inotify's limit), watching degrades to periodic scans with
a message instead of failing.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
import time
from typing import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from photofinder.errors import PhotofinderError
from photofinder.pixels import imaging


def _unwritable(folder: str) -> str | None:
    """Why nothing can be written in ``folder`` now (a file made and removed to find out), or
    None when it can be."""
    probe = os.path.join(folder, f".photofinder-write-probe-{os.getpid()}")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None
    except OSError as e:
        if e.errno == errno.EROFS:
            return "its drive is read-only"
        if e.errno in (errno.EACCES, errno.EPERM):
            return "it is read-only for you (no write permission)"
        if e.errno == errno.ENOSPC:
            return "its disk is full"
        return e.strerror or str(e)
    os.close(fd)
    os.unlink(probe)
    return None


def failure_message(e: BaseException) -> str:
    """One line for a pass that failed while watching, naming the cause where it can be
    found: a library folder that turned read-only says so, not the temporary file whose
    write failed (``FileNotFoundError: index.hnsw.tmp``)."""
    if isinstance(e, PhotofinderError):
        return str(e)
    if isinstance(e, OSError) and e.filename:
        folder = os.path.dirname(os.fsdecode(e.filename))
        why = _unwritable(folder) if folder else None
        if why:
            return (f"the library cannot be written: {folder}: {why}; changes are indexed "
                    "once it can be written again")
    if isinstance(e, sqlite3.OperationalError) and "readonly" in str(e).replace("-", ""):
        return (f"the library's catalogue cannot be written (read-only: {e}); changes are "
                "indexed once it can be written again")
    return f"{type(e).__name__}: {e}"


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: "FolderWatcher"):
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = [event.src_path, getattr(event, "dest_path", "") or ""]
        if event.is_directory or any(imaging.is_candidate(os.fsdecode(p)) for p in paths if p):
            self.watcher.touch()


class FolderWatcher:
    """Calls ``on_burst()`` once per burst of changes in ``folders`` (from its own thread)."""

    def __init__(self, folders: list[str], on_burst: Callable[[], None],
                 log: Callable[[str], None] = lambda m: None, quiet: float = 2.0,
                 max_wait: float = 30.0, poll_interval: float = 300.0):
        self.folders = [f for f in folders if os.path.isdir(f)]
        self.on_burst = on_burst
        self.log = log
        self.quiet, self.max_wait, self.poll_interval = quiet, max_wait, poll_interval
        self.first_event: float | None = None
        self.last_event = 0.0
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.observer = None
        self.degraded = False
        self.thread = threading.Thread(target=self._loop, name="watch-debounce", daemon=True)

    def touch(self) -> None:
        with self.lock:
            now = time.monotonic()
            self.last_event = now
            if self.first_event is None:
                self.first_event = now

    def start(self) -> None:
        self.observer = Observer()
        handler = _Handler(self)
        try:
            for folder in self.folders:
                self.observer.schedule(handler, folder, recursive=True)
            self.observer.start()
        except OSError as e:  # ENOSPC: inotify watch limit; EMFILE: instance limit
            self.log(f"cannot watch every folder ({e.strerror or e}); "
                     f"checking for changes every {int(self.poll_interval)} s instead")
            self.degraded = True
            try:
                self.observer.stop()
            except Exception:
                pass
            self.observer = None
        self.thread.start()

    def _loop(self) -> None:
        last_poll = time.monotonic()
        while not self.stop_event.wait(0.2):
            now = time.monotonic()
            with self.lock:
                due = self.first_event is not None and (
                    now - self.last_event >= self.quiet or now - self.first_event >= self.max_wait)
                if due:
                    self.first_event = None
            if self.degraded and now - last_poll >= self.poll_interval:
                due, last_poll = True, now
            if due:
                try:
                    self.on_burst()
                except Exception as e:  # keep watching whatever one pass does
                    self.log(f"update failed: {failure_message(e)}")

    def stop(self) -> None:
        self.stop_event.set()
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)
        if self.thread.is_alive():
            self.thread.join(timeout=60)


def watch_forever(update: Callable[[], tuple], folders: list[str], log: Callable[[str], None],
                  settle: float = 2.0, stop: threading.Event | None = None) -> None:
    """``photofinder watch``: catch up once, then run ``update()`` for every burst until
    interrupted. ``update()`` scans and indexes, returning (scan report, progress)."""
    rerun = threading.Event()
    passes = threading.Lock()  # one pass at a time: the catch-up's and the watcher's

    def burst() -> None:
        with passes:
            report, prog = update()
        if report.new or report.changed or report.moved or report.deleted or prog.done:
            log(f"{report.new} new, {report.changed} changed, {report.moved} moved, "
                f"{report.deleted} removed; indexed {prog.done - prog.failed}, failed {prog.failed}")
        if report.offline:
            log(f"offline: {', '.join(report.offline)} (kept in the library, still searchable)")
        if report.unsettled:
            rerun.set()  # files still being written: look again shortly

    watcher = FolderWatcher(folders, burst, log)
    watcher.start()  # before catching up: a file that arrives meanwhile is seen too
    burst()
    log(f"watching {len(watcher.folders)} folder(s); Ctrl+C to stop")
    stop = stop or threading.Event()
    try:
        while not stop.wait(0.5):
            if rerun.is_set():
                rerun.clear()
                time.sleep(settle)
                watcher.touch()
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()
