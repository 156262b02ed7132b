"""The vector index: hnswlib, inner product on unit vectors, derived from the catalogue.

Labels are the catalogue's embedding row ids. The file beside the catalogue is only a cache:
``reconcile`` adds what the catalogue has and the index lacks and marks deleted what the
catalogue no longer has; a missing or damaged file is rebuilt from the stored vectors.
"""

from __future__ import annotations

import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable, Iterator

import hnswlib
import numpy as np

from photofinder.checksums import file_sha256

log = logging.getLogger(__name__)

M = 24          # links a node; with ef 400: recall@10 0.99 at 50k whitened vectors (hnsw_million)
EF_CONSTRUCTION = 200
EF_SEARCH = 400
# hnsw_million at 1M whitened vectors: ef 400 -> recall@10 0.87 (p50 2.7 ms), 800 -> 0.93-0.94,
# 1200 -> 0.959 (p50 4.8 ms with another job on the 2 cores), 1600 -> 0.968
LARGE, EF_SEARCH_LARGE = 300_000, 1200
RERANK_FACTOR, RERANK_EXTRA = 3, 32  # graph candidates re-ranked in the full projected space


class VectorIndex:
    """``dim`` is the raw vectors' size. With a ``projection`` (retrieval.projection: whitening,
    a learned head) the graph holds ``projection.reduced(raw)`` (fewer bytes a photo) and
    ``search`` ranks in that space; ``search_many`` still answers raw cosine similarities
    (the duplicates thresholds are raw cosines) by re-scoring the graph's candidates with the
    raw vectors from ``raw_vectors(labels)`` (the catalogue)."""

    def __init__(self, path: Path, dim: int, model: str, projection=None,
                 raw_vectors: "Callable[[list[int]], np.ndarray] | None" = None):
        self.path = Path(path)
        self.meta_path = self.path.with_suffix(".json")
        self.raw_dim = dim
        self.projection = projection
        self.raw_vectors = raw_vectors
        self.dim = projection.index_dim if projection is not None else dim
        self.space = projection.version if projection is not None else "raw"
        self.model = model
        self.index: hnswlib.Index | None = None
        self.live: set[int] = set()
        self.dirty = False
        self.rebuilt = False

    # -- lifecycle ----------------------------------------------------------------------
    @property
    def graph(self) -> hnswlib.Index:
        """The open HNSW graph (``open`` makes it)."""
        if self.index is None:
            raise RuntimeError("the vector index is used before it is opened")
        return self.index

    def _new(self, capacity: int) -> hnswlib.Index:
        idx = hnswlib.Index(space="ip", dim=self.dim)
        # (hnswlib's stubs predate allow_replace_deleted, which 0.8 takes)
        idx.init_index(max_elements=max(capacity, 1024), ef_construction=EF_CONSTRUCTION, M=M,
                       allow_replace_deleted=True)  # pyright: ignore[reportCallIssue]
        idx.set_ef(EF_SEARCH)
        return idx

    def _load(self) -> bool:
        try:
            meta = json.loads(self.meta_path.read_text())
            if (meta.get("model") != self.model or meta.get("dim") != self.dim
                    or meta.get("space", "raw") != self.space):
                return False
            # hnswlib trusts the file: a damaged one (bad neighbour ids) crashes the process
            # in C++. So nothing is loaded that does not match the checksum written with it.
            problem = verify(self.path, meta)
            if problem:
                log.warning("index file %s is damaged (%s); rebuilding from stored vectors",
                            self.path, problem)
                return False
            idx = hnswlib.Index(space="ip", dim=self.dim)
            idx.load_index(str(self.path), max_elements=int(meta["capacity"]),
                           allow_replace_deleted=True)  # pyright: ignore[reportCallIssue]
            idx.set_ef(EF_SEARCH)
            ids = idx.get_ids_list()
            if len(ids) != idx.get_current_count():
                return False
            deleted = set(meta.get("deleted", []))
            self.live = set(int(i) for i in ids) - deleted
            self.index = idx
            return True
        except Exception as e:  # a damaged file: any error from hnswlib or json
            log.warning("index file %s unusable (%s); rebuilding from stored vectors", self.path, e)
            return False

    def open(self, labels: list[int], vectors: VectorSource) -> dict:
        """Load the file and reconcile it with the catalogue's ``labels``; returns a report."""
        wanted = set(labels)
        if not (self.path.exists() and self._load()):
            self.index = self._new(len(wanted) + 1024)
            self.live = set()
            self.rebuilt = bool(wanted)
        return self.reconcile(wanted, vectors)

    def reconcile(self, wanted: set[int], vectors: VectorSource) -> dict:
        """Make the live labels equal ``wanted``: add the missing, mark the extra deleted."""
        missing = sorted(wanted - self.live)
        extra = sorted(self.live - wanted)
        for label in extra:
            self._mark_deleted(label)
        if missing:
            for chunk_labels, chunk in vectors(missing):
                self.add(chunk_labels, chunk)
        if missing or extra:
            self.dirty = True
        return {"added": len(missing), "removed": len(extra), "rebuilt": self.rebuilt}

    def save(self) -> None:
        if self.index is None or not self.dirty:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        self.index.save_index(str(tmp))
        all_ids = set(int(i) for i in self.index.get_ids_list())
        meta = {"model": self.model, "dim": self.dim, "space": self.space,
                "capacity": self.graph.get_max_elements(),
                "count": len(self.live), "deleted": sorted(all_ids - self.live),
                "bytes": tmp.stat().st_size, "sha256": file_digest(tmp)}
        tmp_meta = self.meta_path.with_name(self.meta_path.name + ".tmp")
        tmp_meta.write_text(json.dumps(meta))
        # The meta file names the deleted labels of exactly this index file: replace the
        # index first; a crash between the two makes the pair mismatch, and the next open
        # reconciles (any stale label is dropped, any missing one re-added from the catalogue).
        os.replace(tmp, self.path)
        os.replace(tmp_meta, self.meta_path)
        self.dirty = False

    # -- changes ------------------------------------------------------------------------
    def add(self, labels: list[int], vectors: np.ndarray) -> None:
        if not labels:
            return
        assert self.index is not None
        need = self.graph.get_current_count() + len(labels)
        if need > self.graph.get_max_elements():
            self.graph.resize_index(max(need, int(self.graph.get_max_elements() * 1.5)))
        self.graph.add_items(self._to_space(vectors), np.asarray(labels), replace_deleted=True)
        self.live.update(labels)
        self.dirty = True

    def _mark_deleted(self, label: int) -> None:
        try:
            self.graph.mark_deleted(label)
        except RuntimeError:
            pass
        self.live.discard(label)

    def remove(self, labels: Iterable[int]) -> None:
        for label in labels:
            if label in self.live:
                self._mark_deleted(label)
                self.dirty = True

    def __len__(self) -> int:
        return len(self.live)

    # -- queries ------------------------------------------------------------------------
    def _to_space(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, np.float32)
        return raw if self.projection is None else self.projection.reduced(raw)

    def search(self, vector: np.ndarray, k: int, ef: int | None = None
               ) -> list[tuple[int, float]]:
        """The ``k`` nearest labels to a raw vector with their similarity in the ranking
        space, best first: cosine; with a projection, cosine in its full space (whitened),
        the graph's candidates (fewer dimensions) re-ranked with the raw vectors."""
        n = len(self.live)
        if n == 0 or k <= 0:
            return []
        vector = np.asarray(vector, np.float32).reshape(1, -1)
        p, raw_vectors = self.projection, self.raw_vectors
        rerank = p is not None and p.index_dim < p.dim and raw_vectors is not None
        want = max(k + RERANK_EXTRA, RERANK_FACTOR * k) if rerank else k
        labels, sims = self._knn(self._to_space(vector), want, ef)
        if p is None or raw_vectors is None or not rerank or labels.shape[1] == 0:
            return [(int(l), float(s)) for l, s in zip(labels[0][:k], sims[0][:k])]
        cand = [int(l) for l in labels[0]]
        full = p.full(raw_vectors(cand)) @ p.full(vector)[0]
        order = np.argsort(-full, kind="stable")[:k]
        return [(cand[i], float(full[i])) for i in order]

    def search_many(self, vectors: np.ndarray, k: int, ef: int | None = None,
                    raw: "RawVectors | None" = None) -> tuple[np.ndarray, np.ndarray]:
        """Batched kNN of raw vectors: (labels, raw cosine similarities), each of shape (n, k'),
        best first. ``ef`` trades recall of far neighbours for speed (a range search for near
        copies needs little). ``raw``: where the re-scoring takes the raw vectors from (a
        whole library's range search: each read from the catalogue once), else
        ``raw_vectors``."""
        vectors = np.asarray(vectors, np.float32)
        labels, sims = self._knn(self._to_space(vectors), k, ef)
        if self.projection is None or labels.shape[1] == 0:
            return labels, sims
        if raw is not None:
            sims = raw.dots(raw.rows(labels.ravel()).reshape(labels.shape), vectors)
            order = np.argsort(-sims, axis=1, kind="stable")
            return np.take_along_axis(labels, order, 1), np.take_along_axis(sims, order, 1)
        if self.raw_vectors is None:
            return labels, sims
        # re-score the candidates with the raw vectors, and order them by that
        uniq, inverse = np.unique(labels, return_inverse=True)
        rows = self.raw_vectors([int(u) for u in uniq])
        cand = rows[inverse.reshape(labels.shape)]            # (n, k, D)
        sims = np.einsum("nkd,nd->nk", cand, vectors).astype(np.float32)
        order = np.argsort(-sims, axis=1, kind="stable")
        return np.take_along_axis(labels, order, 1), np.take_along_axis(sims, order, 1)

    def _knn(self, vectors: np.ndarray, k: int, ef: int | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
        """kNN in the index's own space."""
        k = min(k, len(self.live))
        if k <= 0:
            return np.empty((len(vectors), 0), np.int64), np.empty((len(vectors), 0), np.float32)
        ef = max(ef or (EF_SEARCH if len(self.live) < LARGE else EF_SEARCH_LARGE), k)
        while True:
            self.graph.set_ef(ef)
            try:
                labels, dist = self.graph.knn_query(vectors, k=k)
                break
            except RuntimeError:
                # Many deleted elements can leave fewer than k reachable: search wider, and
                # in the end ask for fewer.
                if ef < 4 * len(self.live):
                    ef *= 4
                elif k > 1:
                    k = max(1, k // 2)
                else:
                    return (np.empty((len(vectors), 0), np.int64),
                            np.empty((len(vectors), 0), np.float32))
        return labels.astype(np.int64), (1.0 - dist).astype(np.float32)


class RawVectors:
    """The raw vectors of a fixed set of labels for one long job (the duplicates' range
    search over a whole library): each read from ``read`` (the catalogue: (label, float16
    blob) rows) once, on first use, and kept as float16 rows. The matrix is allocated
    untouched, so only the rows read take memory (100k photos of 1280-d: 250 MB)."""

    def __init__(self, labels: Iterable[int], dim: int,
                 read: Callable[[list[int]], Iterable[tuple[int, bytes]]]):
        self.labels = np.unique(np.fromiter(labels, np.int64))
        self.dim = dim
        top = int(self.labels[-1]) + 1 if len(self.labels) else 0
        # label -> row by a table where the labels are dense enough (they are row ids)
        self._table = None
        if len(self.labels) and self.labels[0] >= 0 and top <= 4 * len(self.labels) + (1 << 20):
            self._table = np.full(top, -1, np.int64)
            self._table[self.labels] = np.arange(len(self.labels))
        self.matrix = np.empty((len(self.labels), dim), np.float16)
        self.loaded = np.zeros(len(self.labels), bool)
        self._read = read
        self.workers = max(1, min(4, os.cpu_count() or 1))

    def rows(self, labels) -> np.ndarray:
        """Row numbers in ``matrix`` of these labels (read now where not read before);
        KeyError for a label outside the set or missing from the source."""
        labels = np.asarray(labels, np.int64).ravel()
        if self._table is not None:
            inside = (labels >= 0) & (labels < len(self._table))
            pos = self._table[np.where(inside, labels, 0)]
            if not inside.all() or (pos < 0).any():
                raise KeyError("labels outside the set")
        else:
            pos = np.searchsorted(self.labels, labels)
            pos[pos == len(self.labels)] = 0
            if len(labels) and (len(self.labels) == 0 or (self.labels[pos] != labels).any()):
                raise KeyError("labels outside the set")
        need = np.unique(pos[~self.loaded[pos]])
        if len(need):
            got, blobs = [], []
            for label, blob in self._read(self.labels[need].tolist()):
                got.append(label)
                blobs.append(blob)
            if got:
                at = np.searchsorted(self.labels, np.asarray(got, np.int64))
                self.matrix[at] = np.frombuffer(b"".join(blobs), np.float16).reshape(-1, self.dim)
                self.loaded[at] = True
            if not self.loaded[need].all():
                raise KeyError("labels missing from the source")
        return pos

    def __call__(self, labels) -> np.ndarray:
        """float32 rows of these labels, in the order asked."""
        return self.matrix[self.rows(labels)].astype(np.float32)

    def dots(self, rows: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """(n, k) inner products of ``vectors`` (n, dim) with the rows ``rows`` (n, k), in small
        blocks: no (n, k, dim) float32 copy (at n=2048, k=16 one is 170 MB, and converting it
        from float16 costs more than the products)."""
        n, k = rows.shape
        out = np.empty((n, k), np.float32)
        vectors = np.ascontiguousarray(vectors, np.float32)
        step = max(1, 256 // max(k, 1))

        def part(lo: int, hi: int) -> None:
            half = np.empty((step, k, self.dim), np.float16)
            full = np.empty((step, k, self.dim), np.float32)
            for s in range(lo, hi, step):
                m = min(step, hi - s)
                np.take(self.matrix, rows[s:s + m], axis=0, out=half[:m])
                np.copyto(full[:m], half[:m])
                np.einsum("nkd,nd->nk", full[:m], vectors[s:s + m], out=out[s:s + m])
        workers = min(self.workers, max(1, n // (8 * step)))
        if workers <= 1:
            part(0, n)
            return out
        bounds = np.linspace(0, n, workers + 1).astype(int)
        with ThreadPoolExecutor(workers) as pool:  # numpy lets go of the GIL for all three
            list(pool.map(part, bounds[:-1], bounds[1:]))
        return out


def file_digest(path: Path) -> str:
    """sha256 of a file (about 1 GB/s: 0.1 s for a 100k-photo index of 256-d vectors)."""
    return file_sha256(path, chunk=1 << 23)


def verify(path: Path, meta: dict) -> str | None:
    """Why the index file does not match its meta (None when it does)."""
    if "sha256" not in meta or "bytes" not in meta:
        return "no checksum recorded"
    size = path.stat().st_size
    if size != meta["bytes"]:
        return f"{size} bytes where {meta['bytes']} were written"
    if file_digest(path) != meta["sha256"]:
        return "checksum mismatch"
    return None


VectorSource = Callable[[list[int]], Iterator[tuple[list[int], np.ndarray]]]


EXACT_WORK = 50_000_000  # query x base rows up to which ``nearest`` compares all (exact, fast)
EXACT_CHUNK = 4_000_000  # ... this many inner products at a time (16 MB)
SCRATCH_M, SCRATCH_EF = 16, 64


def nearest(base: np.ndarray, queries: np.ndarray, k: int, threads: int = -1
            ) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``base`` with the largest inner product with each query row: (rows,
    inner products), each (len(queries), k), best first. Every pair is compared when there
    are few; else through an in-memory HNSW graph of ``base``, built for this search and
    dropped (nothing is kept: the rows are cheap to read again). ``threads``: hnswlib's
    (-1: every core)."""
    base = np.ascontiguousarray(base, np.float32)
    queries = np.ascontiguousarray(queries, np.float32)
    k = min(k, len(base))
    if k <= 0 or not len(queries):
        return np.empty((len(queries), 0), np.int64), np.empty((len(queries), 0), np.float32)
    if len(base) * len(queries) <= EXACT_WORK:
        rows = np.empty((len(queries), k), np.int64)
        sims = np.empty((len(queries), k), np.float32)
        step = max(1, EXACT_CHUNK // len(base))
        for i in range(0, len(queries), step):
            part = queries[i:i + step] @ base.T
            top = np.argpartition(-part, k - 1, axis=1)[:, :k]
            got = np.take_along_axis(part, top, 1)
            order = np.argsort(-got, axis=1, kind="stable")
            rows[i:i + step] = np.take_along_axis(top, order, 1)
            sims[i:i + step] = np.take_along_axis(got, order, 1)
        return rows, sims
    graph = hnswlib.Index(space="ip", dim=base.shape[1])
    graph.init_index(max_elements=len(base), M=SCRATCH_M, ef_construction=SCRATCH_EF)
    graph.set_num_threads(threads)
    graph.add_items(base, np.arange(len(base)))
    graph.set_ef(max(SCRATCH_EF, 2 * k))
    rows, dist = graph.knn_query(queries, k=k)
    return rows.astype(np.int64), (1.0 - dist).astype(np.float32)
