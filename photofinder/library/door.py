"""``Library``: one library folder, opened; the services that work on it, wired once.

    catalog ─┬─ space (model, projection, HNSW index, re-ranking) ─┐
             └─ writer (write.lock) ───────────────────────────────┤
    search(catalog, space, writer)          duplicates(catalog, space, writer)
    words(catalog, space, writer, search)   projections(catalog, space, writer)
    indexing(catalog, space, writer, projections, duplicates, words)
    cleanup(catalog, space, writer, indexing)

Each service declares what it holds and calls nothing above it; the Library's methods
delegate to them (a few combine two). The CLI and the GUI call these methods.
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Callable

from photofinder.dedup.cleanup import Step, TrashReport, UndoReport, no_step
from photofinder.dedup.finder import DEFAULT_SENSITIVITY, Findings, Group
from photofinder.library.cleanup import Cleanup
from photofinder.library.duplicates import Duplicates
from photofinder.library.errors import LibraryError
from photofinder.library.indexing import Indexing
from photofinder.library.projections import Projections, Stages
from photofinder.library.records import (FolderInfo, LibraryMap, Match, PhotoCounts, Problem,
                                         Status, normpath)
from photofinder.library.search import Search
from photofinder.library.space import VectorSpace
from photofinder.library.tools import load_model
from photofinder.library.words import Words
from photofinder.library.writer import Writer, prepare_folder
from photofinder.pixels.embedding.model import BUILD_HINT, Embedder, ModelError
from photofinder.retrieval.evaluate import Report
from photofinder.store.catalog import Catalog
from photofinder.store.records import Listing
from photofinder.work.indexer import Progress
from photofinder.work.scanner import ScanReport, unreadable_message


class Library:
    """A photo library: a folder holding the catalogue (``catalog.sqlite``) and the derived
    index (``index.hnsw`` + ``index.json``). One process writes at a time (``write.lock``,
    taken for each write); readers need no lock."""

    def __init__(self, path: str | os.PathLike, embedder: Embedder | None = None,
                 provider: str | None = None, cleanup_steps: Step = no_step,
                 lock_wait: float = 0):
        """``embedder``: a model to share (else loaded on first use, on ``provider``);
        ``cleanup_steps``: called at each named step of trash and undo (fault injection);
        ``lock_wait``: seconds a write waits for another holder of the write lock before
        LibraryBusy (0: says so at once)."""
        self.path = Path(normpath(path))
        self.read_only = prepare_folder(self.path)
        self.catalog = Catalog(self.path / "catalog.sqlite", read_only=self.read_only)
        self._embedder = embedder
        self._provider = provider
        self.space = VectorSpace(self.catalog, self.path / "index.hnsw", self._model)
        self.writer = Writer(self.path, self.read_only, self.space, patience=lock_wait)
        self.search = Search(self.catalog, self.space, self.writer)
        self.duplicates = Duplicates(self.catalog, self.space, self.writer)
        self.projections = Projections(self.catalog, self.space, self.writer,
                                       self.path / "map.npz")
        self.words = Words(self.catalog, self.space, self.writer, self.search)
        self.indexing = Indexing(self.catalog, self.space, self.writer, self.projections,
                                 self.duplicates, self.words)
        self.cleanup = Cleanup(self.catalog, self.space, self.writer, self.indexing,
                               cleanup_steps)
        self.recovered = self.cleanup.recover(wait=False)

    def _model(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_model(self._provider)
        return self._embedder

    @property
    def embedder(self) -> Embedder:
        """The model (loaded on first use; ModelError says why it cannot be)."""
        return self._model()

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- what is in it --------------------------------------------------------------------------
    def status(self) -> Status:
        counts = self.catalog.photos.counts()
        try:
            model, provider = self.embedder.model_id, self.embedder.provider
        except ModelError as e:  # say why: a missing model, or a provider that cannot run
            model, provider = ("not built", "none") if str(e) == BUILD_HINT else \
                ("unavailable", f"unavailable: {e}")
        problems = [Problem(e.path, e.error) for e in self.catalog.photos.errors()] + \
            [Problem(u.path, unreadable_message(u.reason, self.catalog.photos.count_under(u.path)),
                     "folder") for u in self.catalog.folders.unreadable()]
        status = Status(PhotoCounts(counts["indexed"], counts["pending"], counts["failed"]),
                        problems, self.folders(), model, provider, self.projections.status(),
                        None)
        return replace(status, words=self.words.status()) if status.has_model else status

    def counts(self) -> dict[str, int]:
        """Photos by state: {"indexed", "pending", "failed"}."""
        return self.catalog.photos.counts()

    def listing(self) -> list[Listing]:
        """Every catalogued photo, by path."""
        return list(self.catalog.photos.listing())

    def folders(self) -> list[FolderInfo]:
        return self.indexing.folders()

    def is_catalogued(self, path: str | os.PathLike) -> bool:
        return self.search.is_catalogued(path)

    def warm(self) -> int:
        """Load the model and the index before the first search needs them."""
        self.space.catch_up()
        return len(self.space.index)

    def catch_up(self) -> None:
        """See what another process or thread committed since (a reader beside a writer)."""
        self.space.catch_up()

    # -- folders and indexing -------------------------------------------------------------------
    def add_folder(self, folder: str | os.PathLike) -> FolderInfo:
        return self.indexing.add_folder(folder)

    def remove_folder(self, folder: str | os.PathLike) -> int:
        return self.indexing.remove_folder(folder)

    def scan(self, folders: list[FolderInfo] | None = None,
             progress: Callable[[str], None] | None = None, settle: float = 0.0) -> ScanReport:
        return self.indexing.scan(folders, progress, settle)

    def index_pending(self, progress: Callable[[Progress], None] | None = None,
                      tagging: Callable[[int, int], None] | None = None) -> Progress:
        return self.indexing.index_pending(progress, tagging)

    def update(self, progress: Callable[[Progress], None] | None = None,
               folders: list[FolderInfo] | None = None, settle: float = 0.0,
               duplicates: bool = True) -> tuple[ScanReport, Progress]:
        return self.indexing.update(progress, folders, settle, duplicates)

    def check_due(self, done: Progress) -> bool:
        return self.indexing.check_due(done)

    def pause_indexing(self) -> None:
        self.indexing.pause()

    def resume_indexing(self) -> None:
        self.indexing.resume()

    def cancel_indexing(self) -> None:
        self.indexing.cancel()

    def watch(self, log: Callable[[str], None], settle: float = 2.0,
              stop: threading.Event | None = None) -> None:
        self.indexing.watch(log, settle, stop)

    # -- find similar ---------------------------------------------------------------------------
    def similar(self, path: str | os.PathLike, top: int = 20,
                region: tuple[int, int, int, int] | None = None) -> list[Match]:
        return self.search.similar(path, top, region)

    def mark_result(self, query: str | os.PathLike, result: str | os.PathLike,
                    mark: str | None) -> None:
        self.search.mark_result(query, result, mark)

    def evaluate(self, folder: str | os.PathLike,
                 progress: Callable[[Progress], None] | None = None) -> Report:
        """Index ``folder`` (one sub-folder per group) into this library and measure how
        "Find similar" ranks each photo's group-mates: a retrieval.evaluate.Report."""
        root = normpath(folder)
        if not os.path.isdir(root):
            raise LibraryError(f"not a folder: {root}")
        if not any(root == f.path or root.startswith(f.path.rstrip(os.sep) + os.sep)
                   for f in self.folders()):
            self.add_folder(root)
        self.update(progress, duplicates=False)
        return self.search.evaluate(root, self.projections.status()["version"])

    # -- search by words ------------------------------------------------------------------------
    def search_words(self, query: str, top: int = 20) -> list[Match]:
        """Photos that show what ``query`` names, best first (retrieval/words.py)."""
        return self.words.find(query, top)

    def similar_with_words(self, path: str | os.PathLike, query: str, top: int = 20
                           ) -> list[Match]:
        return self.words.similar(path, query, top)

    def photo_tags(self, path: str | os.PathLike, n: int = 5) -> list[tuple[str, float]]:
        return self.words.photo_tags(path, n)

    def tag_photos(self, progress: Callable[[int, int], None] | None = None) -> int:
        return self.words.backfill(progress)

    def evaluate_words(self, folder: str | os.PathLike, labels: dict[str, list[str]]) -> dict:
        return self.words.evaluate(folder, labels)

    # -- projections and the map ----------------------------------------------------------------
    def projection_status(self) -> dict:
        return self.projections.status()

    def train_projection(self, progress: Stages | None = None, use_torch: bool = False,
                         max_photos: int | None = None) -> dict:
        return self.projections.train(progress, use_torch, max_photos)

    def projection_off(self) -> dict:
        return self.projections.off()

    def map_coordinates(self, progress: Stages | None = None) -> LibraryMap:
        return self.projections.map(progress)

    # -- duplicates and clean-up ----------------------------------------------------------------
    def find_duplicates(self, sensitivity: float = DEFAULT_SENSITIVITY, verify: bool = True,
                        stats: dict | None = None, progress=None) -> Findings:
        return self.duplicates.find(sensitivity, verify, stats, progress)

    @property
    def duplicates_unsaved(self) -> str | None:
        """Why the last duplicates check's results were not stored (a read-only library,
        another process writing), else None."""
        return self.duplicates.unsaved

    def check_duplicates(self, progress=None, stats: dict | None = None) -> Findings | None:
        return self.duplicates.check(progress, stats)

    def stored_duplicates(self, sensitivity: float = DEFAULT_SENSITIVITY) -> Findings | None:
        return self.duplicates.stored(sensitivity)

    def keep(self, path: str | os.PathLike) -> None:
        self.duplicates.keep(path)

    def not_duplicates(self, path_a: str | os.PathLike, path_b: str | os.PathLike) -> None:
        self.duplicates.not_duplicates(path_a, path_b)

    def prefer_folders(self, folders: list[str | os.PathLike]) -> None:
        self.duplicates.prefer_folders(folders)

    def trash(self, paths: list[str], groups: list[Group], dry_run: bool = False) -> TrashReport:
        return self.cleanup.trash(paths, groups, dry_run)

    def trash_groups(self, groups: list[Group], dry_run: bool = False,
                     include_edits: bool = False) -> TrashReport:
        return self.cleanup.trash_groups(groups, dry_run, include_edits)

    def trash_photos(self, paths: list[str], dry_run: bool = False) -> TrashReport:
        """Photos the user trashes by hand (no duplicate rule; journaled, undoable)."""
        return self.cleanup.trash_photos(paths, dry_run)

    def undo(self, batch: str | None = None, reindex: bool = True) -> UndoReport:
        return self.cleanup.undo(batch, reindex)

    def can_undo(self) -> bool:
        """Whether ``undo()`` has a batch to put back."""
        return self.cleanup.can_undo()
