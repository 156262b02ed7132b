"""The facade: ``Library(path)`` ties catalogue, index, model, scanner and indexer together.

The CLI and the GUI call this and nothing below it. A library is a folder holding the
catalogue (``catalog.sqlite``) and the derived index (``index.hnsw`` + ``index.json``).
One process writes at a time (an exclusive lock on ``write.lock``); readers need no lock.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from filelock import FileLock, Timeout

from photofinder.pixels import imaging
from photofinder.work import scanner
from photofinder.store.catalog import Catalog
from photofinder.pixels.embedding import preprocess
from photofinder.pixels.embedding.model import Embedder, ModelError
from photofinder.store.index import VectorIndex, decode_vectors
from photofinder.work.indexer import Indexer, Progress


class LibraryError(Exception):
    """A user error: one line, no traceback."""


class LibraryBusy(LibraryError):
    pass


@dataclass
class Match:
    path: str
    score: float
    photo_id: int


def normpath(path: str | os.PathLike) -> str:
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


class Library:
    def __init__(self, path: str | os.PathLike, embedder: Embedder | None = None,
                 provider: str | None = None):
        self.path = Path(normpath(path))
        self.path.mkdir(parents=True, exist_ok=True)
        self.catalog = Catalog(self.path / "catalog.sqlite")
        self._embedder = embedder
        self._provider = provider
        self._index: VectorIndex | None = None
        self._lock: FileLock | None = None
        self.indexer: Indexer | None = None

    # -- resources ----------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            try:
                self._embedder = Embedder(provider=self._provider)
            except ModelError as e:
                raise LibraryError(str(e)) from None
        return self._embedder

    @property
    def index(self) -> VectorIndex:
        if self._index is None:
            emb = self.embedder
            idx = VectorIndex(self.path / "index.hnsw", emb.dim, emb.model_id)
            labels = self.catalog.embedding_labels(emb.model_id)
            idx.open(labels, lambda missing: decode_vectors(self.catalog.vectors(missing)))
            self._index = idx
        return self._index

    def refresh(self) -> dict:
        """Catch up with what another process or thread committed to the catalogue (a reader
        beside a writer): adds new vectors to the in-memory index, drops removed ones."""
        labels = set(self.catalog.embedding_labels(self.embedder.model_id))
        return self.index.reconcile(labels, lambda m: decode_vectors(self.catalog.vectors(m)))

    def lock(self) -> None:
        """Take the single-writer lock, or raise LibraryBusy."""
        if self._lock is not None:
            return
        lock = FileLock(self.path / "write.lock", timeout=0, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            raise LibraryBusy(f"the library {self.path} is being updated by another photofinder "
                              "process; try again when it has finished") from None
        self._lock = lock

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
    def add_folder(self, folder: str | os.PathLike) -> dict:
        path = normpath(folder)
        if not os.path.isdir(path):
            raise LibraryError(f"not a folder: {path}")
        self.lock()
        return self.catalog.add_folder(path)

    def remove_folder(self, folder: str | os.PathLike) -> int:
        path = normpath(folder)
        row = self.catalog.folder_by_path(path)
        if row is None:
            raise LibraryError(f"not a folder of this library: {path}")
        self.lock()
        count = self.catalog.folder_counts().get(row["id"], 0)
        labels = self.catalog.remove_folder(row["id"])
        if labels:
            self.index.remove(labels)
            self.index.save()
        return count

    def folders(self) -> list[dict]:
        counts = self.catalog.folder_counts()
        return [{"path": f["path"], "online": os.path.isdir(f["path"]),
                 "photos": counts.get(f["id"], 0), "id": f["id"]} for f in self.catalog.folders()]

    # -- indexing -----------------------------------------------------------------------
    def scan(self, folders: list[dict] | None = None,
             progress: Callable[[str], None] | None = None, settle: float = 0.0
             ) -> scanner.ScanReport:
        self.lock()
        self.catalog.requeue_other_models(self.embedder.model_id)
        report = scanner.scan(self.catalog, folders, progress, settle=settle)
        if report.removed_labels:
            self.index.remove(report.removed_labels)
        return report

    def index_pending(self, progress: Callable[[Progress], None] | None = None) -> Progress:
        self.lock()
        self.indexer = Indexer(self.catalog, self.index, self.embedder)
        try:
            return self.indexer.run(progress)
        finally:
            self.indexer = None

    def update(self, progress: Callable[[Progress], None] | None = None,
               folders: list[dict] | None = None, settle: float = 0.0
               ) -> tuple[scanner.ScanReport, Progress]:
        report = self.scan(folders, settle=settle)
        return report, self.index_pending(progress)

    # -- queries ------------------------------------------------------------------------
    def status(self) -> dict:
        counts = self.catalog.counts()
        try:
            model, provider = self.embedder.model_id, self.embedder.provider
        except LibraryError:
            model, provider = "not built", "none"
        return {
            "photos": {"indexed": counts["indexed"], "pending": counts["pending"],
                       "failed": counts["failed"]},
            "errors": [{"path": e["path"], "error": e["error"]} for e in self.catalog.errors()],
            "folders": [{"path": f["path"], "online": f["online"], "photos": f["photos"]}
                        for f in self.folders()],
            "model": model,
            "provider": provider,
        }

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
        if row and row["status"] == "indexed":
            st = os.stat(p)
            emb = self.catalog.embedding_of_photo(row["id"], model_id)
            if emb and st.st_size == row["size"] and st.st_mtime_ns == row["mtime_ns"]:
                return np.frombuffer(emb[1], np.float16).astype(np.float32), row["id"]
        vec, _ = self.embed_file(p)
        return vec, row["id"] if row else None

    def similar(self, path: str | os.PathLike, top: int = 20) -> list[Match]:
        vec, own_id = self.query_vector(path)
        return self.similar_to_vector(vec, top, exclude={normpath(path), os.path.realpath(path)},
                                      exclude_id=own_id)

    def similar_to_vector(self, vec: np.ndarray, top: int = 20, exclude: set[str] = frozenset(),
                          exclude_id: int | None = None) -> list[Match]:
        if top <= 0:
            return []
        hits = self.index.search(vec, top + 1 + len(exclude))
        rows = self.catalog.photos_for_labels([label for label, _ in hits])
        out = []
        for label, score in hits:
            row = rows.get(label)
            if row is None or row["id"] == exclude_id or row["path"] in exclude:
                continue
            out.append(Match(row["path"], min(1.0, max(-1.0, score)), row["id"]))
        return out[:top]

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
                    "query_expansion": searcher.options.describe()}
        return ev.run(plan, lambda label: self.stored_vectors([label])[0], searcher.rank,
                      len(self.index), settings)

    def stored_vectors(self, labels: list[int]) -> np.ndarray:
        """The catalogue's vectors for ``labels`` (float32 rows, in the order asked)."""
        got = dict(self.catalog.vectors(labels))
        return np.stack([np.frombuffer(got[l], np.float16) for l in labels]).astype(np.float32)

    def searcher(self):
        """The "Find similar" pipeline over this library's index (retrieval.search)."""
        from photofinder.retrieval.search import Searcher, SearchOptions

        return Searcher(self.index, self.stored_vectors, SearchOptions())
