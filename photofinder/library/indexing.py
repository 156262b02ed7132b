"""Indexing: the folders of the library, scanning them against the catalogue, embedding
what is pending (work/indexer.py), and what follows as indexing ends: the whitening refitted
when the library has grown, the tags of photos indexed before the model had its class
output, the new photos checked for duplicates. Watching runs it per
burst of changes."""

from __future__ import annotations

import os
import threading
from typing import Callable

from photofinder.library.duplicates import Duplicates
from photofinder.library.errors import LibraryError
from photofinder.library.projections import Projections
from photofinder.library.records import FolderInfo, normpath
from photofinder.library.space import VectorSpace
from photofinder.library.words import Words
from photofinder.library.writer import Writer
from photofinder.store.catalog import Catalog
from photofinder.store.records import Folder
from photofinder.work import scanner, watcher
from photofinder.work.indexer import BATCH, Indexer, Progress


class Indexing:
    def __init__(self, catalog: Catalog, space: VectorSpace, writer: Writer,
                 projections: Projections, duplicates: Duplicates, words: Words):
        self.catalog = catalog
        self.space = space
        self.writer = writer
        self.projections = projections  # refitted as indexing ends
        self.duplicates = duplicates    # the new photos checked as indexing ends
        self.words = words              # photos indexed before the class output get tags
        self.indexer: Indexer | None = None  # the run in progress (pause, resume, cancel)

    # -- folders ----------------------------------------------------------------------------
    def folders(self) -> list[FolderInfo]:
        counts = self.catalog.folders.photo_counts()
        return [FolderInfo(f.id, f.path, f.online and os.path.isdir(f.path), counts.get(f.id, 0))
                for f in self.catalog.folders.all()]

    def add_folder(self, folder: str | os.PathLike) -> FolderInfo:
        path = normpath(folder)
        if not os.path.isdir(path):
            raise LibraryError(f"not a folder: {path}")
        with self.writer.held():
            row = self.catalog.folders.add(path, os.path.realpath(path))
        return next(f for f in self.folders() if f.id == row.id)

    def remove_folder(self, folder: str | os.PathLike) -> int:
        """Forget a folder and its photos (the files are not touched); returns how many."""
        path = normpath(folder)
        row = self.catalog.folders.by_path(path)
        if row is None:
            raise LibraryError(f"not a folder of this library: {path}")
        with self.writer.held():
            count = self.catalog.folders.photo_counts().get(row.id, 0)
            labels = self.catalog.folders.remove(row.id)
            if labels:
                self.space.index.remove(labels)
                self.space.index.save()
        return count

    def _catalog_folders(self, folders: list[FolderInfo] | None) -> list[Folder] | None:
        if folders is None:
            return None
        wanted = {f.id for f in folders}
        return [f for f in self.catalog.folders.all() if f.id in wanted]

    # -- scanning and indexing ----------------------------------------------------------------
    def scan(self, folders: list[FolderInfo] | None = None,
             progress: Callable[[str], None] | None = None, settle: float = 0.0
             ) -> scanner.ScanReport:
        """Bring the catalogue up to date with the disk (``folders``, else all)."""
        with self.writer.held():
            model_id = self.space.model_id()  # None before the model is built: photos are
            if model_id:                        # listed, and indexed once it is
                self.catalog.photos.requeue_other_models(model_id)
            report = scanner.scan(self.catalog, self._catalog_folders(folders), progress,
                                  settle=settle)
            if report.removed_labels and model_id:  # (else reconciled when the index opens)
                self.space.index.remove(report.removed_labels)
        return report

    def index_pending(self, progress: Callable[[Progress], None] | None = None,
                      tagging: Callable[[int, int], None] | None = None) -> Progress:
        """Embed every pending photo (the index follows batch by batch), then refit the
        whitening if the library has grown enough, and tag the photos indexed before the
        model had its class output from their stored vectors (``tagging(done, total)``)."""
        with self.writer.held():
            self.duplicates.stop.clear()
            emb = self.space.embedder  # decode workers and batch size suit its provider
            self.indexer = Indexer(self.catalog, self.space.index, emb,
                                   workers=getattr(emb, "decode_workers", None),
                                   batch=getattr(emb, "batch_size", BATCH))
            try:
                done = self.indexer.run(progress)
            finally:
                self.indexer = None
            self.projections.refit()
            self.words.backfill(tagging, self.duplicates.stop.is_set)
        return done

    def update(self, progress: Callable[[Progress], None] | None = None,
               folders: list[FolderInfo] | None = None, settle: float = 0.0,
               duplicates: bool = True) -> tuple[scanner.ScanReport, Progress]:
        """Scan, index what is pending, then (``duplicates``) check what was indexed for
        duplicates, so they are known before anyone asks."""
        report = self.scan(folders, settle=settle)
        done = self.index_pending(progress)
        if duplicates and self.check_due(done):
            self.duplicates.check()
        return report, done

    def check_due(self, done: Progress) -> bool:
        """Whether indexing that ended with ``done`` is followed by the duplicates check:
        something new was indexed and ``cancel`` was not asked for."""
        return done.done > done.failed and not self.duplicates.stop.is_set()

    def pause(self) -> None:
        if self.indexer is not None:
            self.indexer.pause()

    def resume(self) -> None:
        if self.indexer is not None:
            self.indexer.resume()

    def cancel(self) -> None:
        """End the run in progress, and the duplicates check after it."""
        self.duplicates.stop.set()
        if self.indexer is not None:
            self.indexer.cancel()

    def watch(self, log: Callable[[str], None], settle: float = 2.0,
              stop: threading.Event | None = None) -> None:
        """Headless watching: catch up, then index every burst of changes until ``stop``.
        The writer lock is taken per burst (waiting while another process writes), so trash
        and undo elsewhere are not refused while it watches."""
        self.writer.check()

        def burst() -> tuple[scanner.ScanReport, Progress]:
            with self.writer.held(wait=-1):
                return self.update(settle=settle)
        watcher.watch_forever(burst, [f.path for f in self.folders()], log, settle=settle,
                              stop=stop)
