"""THE door: ``Library(path)`` ties catalogue, index, model, pipeline and duplicates together.

The CLI and the GUI call this and nothing below it: folders, scanning and indexing, search,
duplicates (find, keep, not-duplicates, trash, undo), watching, the model. The services below
(``work``, ``dedup``) take the catalogue, the index and the model they need, never the
Library. A library is a folder holding the catalogue (``catalog.sqlite``) and the derived
index (``index.hnsw`` + ``index.json``). One process writes at a time (``write.lock``, taken
by every method that writes); readers need no lock.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from filelock import FileLock, Timeout

from photofinder.dedup import cleanup, finder
from photofinder.dedup import recovery
from photofinder.dedup.cleanup import CleanupError, TrashReport, UndoReport
from photofinder.dedup.recovery import Recovered
from photofinder.dedup.finder import DEFAULT_SENSITIVITY, Findings, Group
from photofinder.errors import PhotofinderError
from photofinder.pixels import imaging
from photofinder.pixels.embedding import preprocess
from photofinder.pixels.embedding.model import Embedder, ModelError
from photofinder.store.catalog import Catalog
from photofinder.store.index import VectorIndex, decode_vectors
from photofinder.store.records import Listing
from photofinder.work import scanner, watcher
from photofinder.work.indexer import BATCH, Indexer, Progress

__all__ = ["Library", "LibraryError", "LibraryBusy", "Match", "LibraryMap", "FolderInfo", "Group",
           "TrashReport", "UndoReport", "Progress", "Listing", "normpath", "load_model", "model_info",
           "build_model", "DEFAULT_SENSITIVITY", "PictureError", "Picture", "is_photo_name",
           "open_picture", "thumbnail", "folder_watcher"]


class LibraryError(PhotofinderError):
    """A user error: one line, no traceback."""


class LibraryBusy(LibraryError):
    pass


@dataclass
class Match:
    path: str
    score: float
    photo_id: int
    mark: str | None = None  # the user's "similar" / "not_similar" on this result


@dataclass(frozen=True)
class LibraryMap:
    """Photos on the library's 2-D map: ``paths[i]`` sits at ``xy[i]`` (0..1000)."""
    paths: list[str]
    xy: np.ndarray
    space: str


@dataclass(frozen=True)
class FolderInfo:
    id: int
    path: str
    online: bool
    photos: int


def normpath(path: str | os.PathLike) -> str:
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


# -- the model ------------------------------------------------------------------------------
def load_model(provider: str | None = None) -> Embedder:
    """The ONNX model, ready to share between Libraries (its run() is thread-safe)."""
    try:
        return Embedder(provider=provider)
    except ModelError as e:
        raise LibraryError(str(e)) from None


def model_info(provider: str | None = None) -> dict:
    """The model's manifest and the provider it runs on (or why it cannot run)."""
    from photofinder.pixels.embedding.model import read_manifest

    manifest = read_manifest()
    try:
        running = Embedder(provider=provider).provider
    except ModelError as e:
        running = f"unavailable ({e})"
    return {**manifest, "provider": running}


def build_model(progress: Callable[[str], None] = lambda m: None) -> dict:
    """Export the model (needs the ``export`` extra: torch); returns its manifest."""
    try:
        from photofinder.pixels.embedding.export import export
    except ImportError as e:
        raise LibraryError(f"building the model needs the export extra ({e.name} is missing): "
                           "pip install 'photofinder[export]'") from None
    return export(progress=progress)


# -- pictures and watching, for the GUI (which imports nothing below this door) -------------
PictureError = imaging.ImageError
Picture = imaging.Decoded


def is_photo_name(path: str | os.PathLike) -> bool:
    """A file name the scanner would consider (by extension; content decides later)."""
    return imaging.is_candidate(os.fspath(path))


def open_picture(path: str | os.PathLike, long_side: int) -> Picture:
    """Decode a file for display (orientation applied) at about ``long_side`` px;
    PictureError with a one-line reason for anything that is not a usable picture."""
    return imaging.decode(imaging.read_bytes(path), need=long_side)


def thumbnail(path: str | os.PathLike, size: int):
    """A PIL thumbnail of a file, at most ``size`` px; PictureError when it cannot be read."""
    return imaging.thumbnail(path, size)


def folder_watcher(folders: list[str], on_burst: Callable[[], None],
                   log: Callable[[str], None] = lambda m: None) -> watcher.FolderWatcher:
    """Watch ``folders``: ``on_burst()`` once per burst of changes (start() / stop())."""
    return watcher.FolderWatcher(folders, on_burst, log)


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


def plot_problem() -> str | None:
    """Why ``evaluate --plot`` cannot draw (matplotlib missing), or None when it can."""
    from photofinder.retrieval import plot

    return None if plot.available() else str(plot.PlotError.missing())


def write_pr_curve(path: str | os.PathLike, report, title: str, label: str = "") -> None:
    """The precision-recall curve of an ``evaluate`` report as a PNG (one-line errors)."""
    from photofinder.retrieval import plot

    plot.pr_png(path, report.summary.curve_recall, report.summary.curve_precision, title,
                label=label)


def _cleanup_errors(fn):
    """Duplicates' own errors reach the user as one-line LibraryErrors."""
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except CleanupError as e:
            raise LibraryError(str(e)) from None
    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


class Library:
    def __init__(self, path: str | os.PathLike, embedder: Embedder | None = None,
                 provider: str | None = None):
        self.path = Path(normpath(path))
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
            labels = self.catalog.embedding_labels(emb.model_id)
            idx.open(labels, lambda missing: decode_vectors(self.catalog.vectors(missing)))
            self._index = idx
        return self._index

    def refresh(self) -> dict:
        """Catch up with what another process or thread committed to the catalogue (a reader
        beside a writer): adds new vectors to the in-memory index, drops removed ones."""
        if self._index is not None and self._index.space != self._projection_version():
            self._index = None  # the writer refitted the whitening: load the new index
        labels = set(self.catalog.embedding_labels(self.embedder.model_id))
        return self.index.reconcile(labels, lambda m: decode_vectors(self.catalog.vectors(m)))

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
        if self.read_only or not self.catalog.journal_has_open():
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
        row = self.catalog.add_folder(path)
        return next(f for f in self.folders() if f.id == row.id)

    def remove_folder(self, folder: str | os.PathLike) -> int:
        path = normpath(folder)
        row = self.catalog.folder_by_path(path)
        if row is None:
            raise LibraryError(f"not a folder of this library: {path}")
        self.lock()
        count = self.catalog.folder_counts().get(row.id, 0)
        labels = self.catalog.remove_folder(row.id)
        if labels:
            self.index.remove(labels)
            self.index.save()
        return count

    def folders(self) -> list[FolderInfo]:
        counts = self.catalog.folder_counts()
        return [FolderInfo(f.id, f.path, f.online and os.path.isdir(f.path), counts.get(f.id, 0))
                for f in self.catalog.folders()]

    # -- indexing -----------------------------------------------------------------------
    def _catalog_folders(self, folders: list[FolderInfo] | None):
        if folders is None:
            return None
        wanted = {f.id for f in folders}
        return [f for f in self.catalog.folders() if f.id in wanted]

    def scan(self, folders: list[FolderInfo] | None = None,
             progress: Callable[[str], None] | None = None, settle: float = 0.0
             ) -> scanner.ScanReport:
        self.lock()
        self.catalog.requeue_other_models(self.embedder.model_id)
        report = scanner.scan(self.catalog, self._catalog_folders(folders), progress,
                              settle=settle)
        if report.removed_labels:
            self.index.remove(report.removed_labels)
        return report

    def counts(self) -> dict[str, int]:
        """Photos by state: {"indexed", "pending", "failed"}."""
        return self.catalog.counts()

    def index_pending(self, progress: Callable[[Progress], None] | None = None) -> Progress:
        self.lock()
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
               folders: list[FolderInfo] | None = None, settle: float = 0.0
               ) -> tuple[scanner.ScanReport, Progress]:
        report = self.scan(folders, settle=settle)
        return report, self.index_pending(progress)

    def pause_indexing(self) -> None:
        if self.indexer is not None:
            self.indexer.pause()

    def resume_indexing(self) -> None:
        if self.indexer is not None:
            self.indexer.resume()

    def cancel_indexing(self) -> None:
        if self.indexer is not None:
            self.indexer.cancel()

    def watch(self, log: Callable[[str], None], settle: float = 2.0,
              stop: threading.Event | None = None) -> None:
        """Headless watching: catch up, then index every burst of changes until ``stop``."""
        self.lock()
        watcher.watch_forever(lambda: self.update(settle=settle),
                              [f.path for f in self.folders()], log, settle=settle, stop=stop)

    # -- queries ------------------------------------------------------------------------
    def status(self) -> dict:
        counts = self.catalog.counts()
        try:
            model, provider = self.embedder.model_id, self.embedder.provider
        except LibraryError as e:  # say why: a missing model, or a provider that cannot run
            from photofinder.pixels.embedding.model import BUILD_HINT

            model, provider = ("not built", "none") if str(e) == BUILD_HINT else \
                ("unavailable", f"unavailable: {e}")
        return {
            "photos": {"indexed": counts["indexed"], "pending": counts["pending"],
                       "failed": counts["failed"]},
            "errors": [{"path": e.path, "error": e.error} for e in self.catalog.errors()],
            "folders": [{"path": f.path, "online": f.online, "photos": f.photos}
                        for f in self.folders()],
            "model": model,
            "provider": provider,
            "projection": self.projection_status(),
        }

    def listing(self) -> list[Listing]:
        """Every catalogued photo, by path."""
        return list(self.catalog.listing())

    def is_catalogued(self, path: str | os.PathLike) -> bool:
        return self.catalog.photo_by_path(normpath(path)) is not None

    def embed_file(self, path: str | os.PathLike) -> tuple[np.ndarray, str]:
        """Embed an outside image: (vector, content hash). Raises LibraryError for bad input."""
        try:
            decoded, digest, _ = imaging.load(path, need=preprocess.LONG_SIDE)
        except imaging.ImageError as e:
            raise LibraryError(f"{path}: {e}") from None
        return self.embedder.embed([preprocess.prepare(decoded.image)])[0], digest

    def query_vector(self, path: str | os.PathLike) -> tuple[np.ndarray, int | None]:
        """The vector to search with for a file; reuses the stored one when it is catalogued
        and unchanged. Returns (vector, photo id or None)."""
        p = normpath(path)
        if not os.path.isfile(p):
            raise LibraryError(f"no such file: {p}")
        model_id = self.embedder.model_id  # a missing model is the first thing to say
        row = self.catalog.photo_by_path(p) or self.catalog.photo_by_path(os.path.realpath(p))
        if row and row.status == "indexed":
            st = os.stat(p)
            emb = self.catalog.embedding_of_photo(row.id, model_id)
            if emb and st.st_size == row.size and st.st_mtime_ns == row.mtime_ns:
                return np.frombuffer(emb[1], np.float16).astype(np.float32), row.id
        vec, _ = self.embed_file(p)
        return vec, row.id if row else None

    def query_vectors(self, path: str | os.PathLike) -> tuple[np.ndarray, int | None]:
        """The query for a file, (n, d): its vector, then (with the rotations option) the
        photo turned 90, 180 and 270 degrees, so a photo stored sideways finds its scene."""
        vec, own_id = self.query_vector(path)
        # turned views help plain vectors (holidays-dev +0.012 mAP) but not whitened ones
        # (-0.022 together): a whitened library queries with the photo as it is
        if not self.searcher().options.rotations or self.index.projection is not None:
            return vec[None], own_id
        try:
            decoded, _, _ = imaging.load(normpath(path), need=preprocess.LONG_SIDE)
        except imaging.ImageError:  # a stored vector of a file unreadable now: search with it
            return vec[None], own_id
        from PIL import Image

        img = decoded.image
        turned = [preprocess.prepare(img.transpose(t)) for t in
                  (Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180,
                   Image.Transpose.ROTATE_270)]
        return np.vstack([vec[None], self.embedder.embed(turned)]), own_id

    def similar(self, path: str | os.PathLike, top: int = 20) -> list[Match]:
        vecs, own_id = self.query_vectors(path)
        exclude = {normpath(path), os.path.realpath(path)}
        fb = self._query_feedback(path)
        if not fb:
            return self.similar_to_vector(vecs, top, exclude=exclude, exclude_id=own_id)
        from photofinder.retrieval import feedback

        # the user's marks on this query's results re-rank it at once (retrieval/feedback.py)
        got = self.similar_to_vector(feedback.adjust_query(vecs, fb), top, exclude=exclude,
                                     exclude_id=own_id)
        return feedback.pin(got, self.catalog.hashes_of_photos([m.photo_id for m in got]), fb)

    def mark_result(self, query: str | os.PathLike, result: str | os.PathLike,
                    mark: str | None) -> None:
        """The user's verdict on a result of "Find similar": "similar", "not_similar", or None
        to forget it. Stored by content (a decision); it re-ranks that query at once and feeds
        the next ``train_projection``."""
        from photofinder.store.feedback import MARKS

        if mark is not None and mark not in MARKS:
            raise LibraryError(f"a mark is one of {', '.join(MARKS)}, not {mark!r}")
        hashes = []
        for p in (query, result):
            row = self.catalog.photo_by_path(normpath(p))
            if row is None or not row.hash:
                raise LibraryError(f"not an indexed photo of this library: {normpath(p)}")
            hashes.append(row.hash)
        self.lock()
        self.catalog.set_mark(hashes[0], hashes[1], mark)

    def _query_feedback(self, path: str | os.PathLike):
        from photofinder.retrieval.feedback import QueryFeedback

        row = self.catalog.photo_by_path(normpath(path))
        marked = self.catalog.marked_vectors(self.embedder.model_id, row.hash) \
            if row is not None and row.hash else []
        if not marked:
            return None
        sides = {m: [r.result_label for r in marked if r.mark == m and r.result_label]
                 for m in ("similar", "not_similar")}
        vecs = {m: self.stored_vectors(ls) if ls else np.empty((0, self.embedder.dim), np.float32)
                for m, ls in sides.items()}
        return QueryFeedback(vecs["similar"], vecs["not_similar"],
                             frozenset(r.result_hash for r in marked if r.mark == "similar"),
                             frozenset(r.result_hash for r in marked if r.mark == "not_similar"))

    def similar_to_vector(self, vec: np.ndarray, top: int = 20, exclude: set[str] = frozenset(),
                          exclude_id: int | None = None) -> list[Match]:
        """``vec``: a vector, or several views of one query (n, d) whose best score counts."""
        if top <= 0:
            return []
        hits = self.searcher().rank(vec, top + 1 + len(exclude))
        rows = self.catalog.photos_for_labels([label for label, _ in hits])
        out = []
        for label, score in hits:
            row = rows.get(label)
            if row is None or row.id == exclude_id or row.path in exclude:
                continue
            out.append(Match(row.path, min(1.0, max(-1.0, score)), row.id))
        return out[:top]

    # -- duplicates -----------------------------------------------------------------------
    def duplicates(self, sensitivity: float = DEFAULT_SENSITIVITY, verify: bool = True,
                   stats: dict | None = None) -> list[Group]:
        """Groups of copies, best first (dedup/finder.py says how they are found)."""
        return self.find_duplicates(sensitivity, verify, stats).groups

    def find_duplicates(self, sensitivity: float = DEFAULT_SENSITIVITY, verify: bool = True,
                        stats: dict | None = None, progress=None) -> Findings:
        """Copy groups (``groups``) and, apart, similar shots (``similar_shots``: bursts,
        other views; never offered for the trash). Only what is new since the last check
        is checked; the answer is stored for ``stored_duplicates``. ``progress(stage, done,
        total)`` is called while it works."""
        return finder.find(self.catalog, self.index, sensitivity, verify=verify, stats=stats,
                           progress=progress)

    def stored_duplicates(self, sensitivity: float = DEFAULT_SENSITIVITY) -> Findings | None:
        """The last results at once (no check), when made with this model and sensitivity;
        groups whose files changed since are left out (``fresh`` is then False)."""
        try:
            model = self.embedder.model_id
        except LibraryError:
            return None
        return finder.stored(self.catalog, model, sensitivity)

    @_cleanup_errors
    def keep(self, path: str | os.PathLike) -> None:
        """The user's choice: keep this copy in its group (remembered)."""
        self.lock()
        finder.choose_keeper(self.catalog, normpath(path))

    @_cleanup_errors
    def not_duplicates(self, path_a: str | os.PathLike, path_b: str | os.PathLike) -> None:
        """Remember that two photos are not copies of each other (forever)."""
        self.lock()
        finder.mark_not_duplicates(self.catalog, normpath(path_a), normpath(path_b))

    def prefer_folders(self, folders: list[str | os.PathLike]) -> None:
        """Keeper rule: prefer copies in these folders (remembered)."""
        self.lock()
        rules = finder.get_rules(self.catalog)
        rules.preferred_folders = [normpath(f) for f in folders]
        finder.set_rules(self.catalog, rules)

    @_cleanup_errors
    def trash(self, paths: list[str], groups: list[Group], dry_run: bool = False) -> TrashReport:
        """Move copies of ``groups`` to the system trash (journaled, undoable; never the last
        copy of a photo)."""
        if not dry_run:
            self.lock()
            self._recover()
        offline = [f.path for f in self.folders() if not f.online]
        return cleanup.trash(self.catalog, self._index, [normpath(p) for p in paths], groups,
                             dry_run, offline)

    def trash_groups(self, groups: list[Group], dry_run: bool = False) -> TrashReport:
        """Trash every copy but the keeper of each group."""
        return self.trash([m.path for g in groups for m in g.others], groups, dry_run)

    @_cleanup_errors
    def undo(self, batch: str | None = None, reindex: bool = True) -> UndoReport:
        """Put a trash batch back (the last one by default) and index the files again: the
        paths restored (a list), with ``.blocked`` {path: why} for those that were not."""
        self.lock()
        settled = self._recover()
        restored = cleanup.undo(self.catalog, batch)
        back = list(restored) + (settled.restored if settled else [])  # an undo cut short too
        if reindex and back:
            folders = [f for f in self.folders()
                       if any(p.startswith(f.path.rstrip(os.sep) + os.sep) for p in back)]
            if folders:
                self.update(folders=folders)
        return restored

    # -- evaluation -----------------------------------------------------------------------
    def evaluate(self, folder: str | os.PathLike,
                 progress: Callable[[Progress], None] | None = None):
        """Index ``folder`` (one sub-folder per group) into this library and measure how
        "Find similar" ranks each photo's group-mates: a retrieval.evaluate.Report."""
        from photofinder.retrieval import evaluate as ev

        root = normpath(folder)
        if not os.path.isdir(root):
            raise LibraryError(f"not a folder: {root}")
        if not any(root == f.path or root.startswith(f.path.rstrip(os.sep) + os.sep)
                   for f in self.folders()):
            self.add_folder(root)
        self.update(progress)
        model = self.embedder.model_id

        def lookup(path: str) -> dict | None:
            row = self.catalog.photo_by_path(path)
            if row is None:
                return None
            if row.status == "failed":
                return {"error": row.error}
            emb = self.catalog.embedding_of_photo(row.id, model)
            return {"label": emb[0]} if emb else {"error": "not indexed yet"}

        try:
            plan = ev.plan(root, list(scanner.walk(root)), lookup)
        except ev.EvaluationError as e:
            raise LibraryError(str(e)) from None
        searcher = self.searcher()
        settings = {"model": model, "provider": self.embedder.provider,
                    "projection": self.projection_status()["version"],
                    "query_expansion": searcher.options.describe(),
                    "rotations": "4-rotation max" if searcher.options.rotations else "off"}

        def rank_query(q, k):
            return searcher.rank(self.query_vectors(q.path)[0], k, {q.label})

        return ev.run(plan, rank_query, len(self.index), settings)

    def stored_vectors(self, labels: list[int]) -> np.ndarray:
        """The catalogue's vectors for ``labels`` (float32 rows, in the order asked)."""
        got = dict(self.catalog.vectors(labels))
        return np.stack([np.frombuffer(got[l], np.float16) for l in labels]).astype(np.float32)

    def searcher(self):
        """The "Find similar" pipeline over this library's index (retrieval.search)."""
        from photofinder.retrieval.search import DEFAULT, Searcher

        return Searcher(self.index, self.stored_vectors, DEFAULT)

    # -- projection (whitening learned from the library's own vectors) ----------------------
    def _projection_version(self) -> str:
        rec = self.catalog.active_projection(self.embedder.model_id)
        return rec.version if rec else "raw"

    def projection(self):
        """The active retrieval.projection for this model, or None (plain vectors)."""
        from photofinder.retrieval import projection as P

        rec = self.catalog.active_projection(self.embedder.model_id)
        return P.load(rec.data) if rec else None

    def projection_status(self) -> dict:
        from photofinder.retrieval import projection as P

        try:
            return P.describe(self.projection())
        except LibraryError:
            return P.describe(None)

    def refit_projection(self, force: bool = False) -> bool:
        """Learn (again) the whitening from a sample of the stored vectors when the library
        has grown enough, store it as a new version and re-derive the index from the raw
        vectors (no re-embedding). Returns whether it refitted."""
        from photofinder.retrieval import projection as P

        model = self.embedder.model_id
        count = self.catalog.embedding_count(model)
        current = self.projection()
        if current is not None and current.kind == "learned" and not force:
            return False  # a learned projection holds its own whitening: retrain to renew it
        if not (P.refit_due(count, current) or (force and count >= 2)):
            return False
        self.lock()
        blobs = self.catalog.sample_vectors(model, P.FIT_SAMPLE)
        sample = np.stack([np.frombuffer(b, np.float16) for b in blobs]).astype(np.float32)
        p = P.fit_library(sample, count)
        self.catalog.save_projection(model, p.version, p.kind, p.trained_on, p.to_bytes())
        self._index = None  # re-derived through the new projection on next use
        self.index.save()
        return True

    # -- the learned projection (retrieval/learn.py) --------------------------------------
    def train_projection(self, progress: Callable[[str, int, int], None] | None = None,
                         use_torch: bool = False, max_photos: int | None = None) -> dict:
        """Learn the metric from this library's photos (edited copies) and the user's marks,
        make it the active projection and re-derive the index from the stored raw vectors
        (no re-embedding). Slow (decodes photos): a background job. Returns what it learned
        from and the new version."""
        from photofinder.retrieval import learn

        self.lock()
        model = self.embedder.model_id
        try:
            ts = learn.training_set(self.catalog, model, self.embedder, progress,
                                    max_photos=max_photos or learn.MAX_PHOTOS)
            p = learn.fit(ts, use_torch=use_torch, progress=progress)
        except learn.LearnError as e:
            raise LibraryError(str(e)) from None
        self.catalog.save_projection(model, p.version, p.kind, p.trained_on, p.to_bytes())
        self._index = None
        if progress:
            progress("re-deriving the index", 0, 1)
        self.index.save()
        return {"version": p.version, "method": "learned whitening" +
                (" + contrastive fine-tuning (torch)" if use_torch else " (closed form)"),
                **ts.sources}

    def map_coordinates(self, progress: Callable[[str, int, int], None] | None = None
                        ) -> "LibraryMap":
        """Every indexed photo's place on a 2-D map of the library (retrieval/map.py: t-SNE
        over the vectors of the index's space, cached in ``map.npz`` and extended as photos
        are indexed). Slow the first time (a background job)."""
        from photofinder.retrieval import map as M

        model = self.embedder.model_id
        items = {it.label: it for it in self.catalog.indexed_items(model)}
        space = f"{model}/{self._projection_version()}"
        proj = self.projection()

        def vectors_of(labels: list[int]) -> np.ndarray:
            raw = self.stored_vectors(labels)
            return proj.full(raw) if proj is not None else raw

        cache = self.path / "map.npz"
        try:
            m, changed = M.update(M.MapCoordinates.load(cache), list(items), space, vectors_of,
                                  progress)
        except M.MapError as e:
            raise LibraryError(str(e)) from None
        if changed and not self.read_only:
            try:
                m.save(cache)
            except OSError:
                pass  # a cache only
        return LibraryMap([items[int(label)].path for label in m.labels], m.xy, m.space)

    def projection_off(self) -> dict:
        """Switch the learned projection off: back to plain (the library's whitening when it
        has one, else raw vectors); the index is re-derived from the stored vectors."""
        self.lock()
        self.catalog.deactivate_projection_kind(self.embedder.model_id, "learned")
        self._index = None
        self.refit_projection()  # a library big enough for whitening gets it back
        self.index.save()
        return self.projection_status()

