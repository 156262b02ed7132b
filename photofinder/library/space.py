"""The vector space: what "similar" means in this library, as one object.

A photo's raw vector (the model's, float16 in the catalogue) goes through the active
projection (the library's whitening or learned metric, else the shipped principal axes, else
none) into the HNSW index, which ranks by cosine in that space; the best results are then
re-ranked by their local features (retrieval/rerank.py). ``VectorSpace`` holds the model, the
projection, the index and the re-ranking features; "Find similar" (search.py) and the
duplicates check (duplicates.py) both take it. It knows nothing of the Library.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from photofinder.dedup import features as F
from photofinder.identity import decode_matrix, decode_vectors
from photofinder.pixels.embedding.model import Embedder, ModelError
from photofinder.retrieval import projection as P
from photofinder.retrieval.rerank import FeatureCache, rerank
from photofinder.retrieval.search import DEFAULT, Searcher
from photofinder.store.catalog import Catalog
from photofinder.store.index import VectorIndex


class VectorSpace:
    def __init__(self, catalog: Catalog, index_path: Path, model: Callable[[], Embedder]):
        """``model()``: the embedder, loaded on first use (browsing needs none)."""
        self.catalog = catalog
        self.index_path = index_path
        self._model = model
        self._index: VectorIndex | None = None
        self._seen_version: int | None = None
        self._features = FeatureCache(self._load_features)

    @property
    def embedder(self) -> Embedder:
        return self._model()

    def model_id(self) -> str | None:
        """The model's id, or None while no model can be loaded (scanning and browsing need
        none; indexing says why it cannot run)."""
        try:
            return self.embedder.model_id
        except ModelError:
            return None

    # -- the projection -----------------------------------------------------------------------
    def projection(self):
        """The active retrieval.projection for this model: the library's own (a whitening,
        a learned metric), else the shipped principal axes (a compact graph ranked by plain
        cosine), else None (plain vectors)."""
        rec = self.catalog.projections.active(self.embedder.model_id)
        return P.load(rec.data) if rec else P.shipped(self.embedder.dim)

    def projection_version(self) -> str:
        rec = self.catalog.projections.active(self.embedder.model_id)
        if rec:
            return rec.version
        p = P.shipped(self.embedder.dim)
        return p.version if p is not None else P.RAW

    def turned_views(self) -> bool:
        """Whether a query also looks with the photo turned 90, 180 and 270 degrees: it helps
        plain vectors (holidays-dev +0.012 mAP) but not whitened ones (-0.022 together)."""
        return DEFAULT.rotations and not P.whitens(self.index.projection)

    # -- the index ----------------------------------------------------------------------------
    @property
    def index(self) -> VectorIndex:
        """The HNSW index, loaded (and reconciled with the catalogue) on first use; missing
        or damaged, it is rebuilt from the stored vectors."""
        if self._index is None:
            emb = self.embedder
            idx = VectorIndex(self.index_path, emb.dim, emb.model_id, self.projection(),
                              self.stored_vectors)
            idx.open(self.catalog.embeddings.labels(emb.model_id), self._decoded)
            self._index = idx
        return self._index

    @property
    def loaded(self) -> VectorIndex | None:
        """The index if it is loaded (to change or save it without loading it)."""
        return self._index

    def rederive(self) -> None:
        """The projection changed: the index is derived again, from the stored vectors, on
        next use."""
        self._index = None

    def remove(self, labels: list[int]) -> None:
        """Vectors gone from the catalogue leave the index (if it is loaded; else it
        reconciles when it loads)."""
        if self._index is not None and labels:
            self._index.remove(labels)

    def save(self) -> None:
        if self._index is not None:
            self._index.save()

    def refresh(self) -> dict:
        """Catch up with what another process or thread committed to the catalogue (a reader
        beside a writer): adds new vectors to the in-memory index, drops removed ones."""
        if self._index is not None and self._index.space != self.projection_version():
            self._index = None  # the writer refitted the projection: load the new index
        labels = set(self.catalog.embeddings.labels(self.embedder.model_id))
        return self.index.reconcile(labels, self._decoded)

    def catch_up(self) -> None:
        """``refresh()`` only when another connection has committed since the last time
        (SQLite's data_version says so without reading every label)."""
        version = self.catalog.data_version()
        if version != self._seen_version:
            self.refresh()
            self._seen_version = version

    # -- ranking ------------------------------------------------------------------------------
    def rank(self, vectors: np.ndarray, k: int, exclude: set[int] | frozenset[int] = frozenset()
             ) -> list[tuple[int, float]]:
        """The ``k`` nearest labels to one query (d,) or to its views (n, d), best first, by
        cosine in the projected space (retrieval/search.py)."""
        return Searcher(self.index, self.stored_vectors, DEFAULT).rank(vectors, k, exclude)

    def rerank(self, query: F.Features | None, hits: list[tuple[int, float]]
               ) -> list[tuple[int, float]]:
        """The best ``hits`` lifted by how well their local features agree with ``query``'s."""
        return rerank(query, hits, self._features)

    def stored_vectors(self, labels: list[int]) -> np.ndarray:
        """The catalogue's raw vectors for ``labels`` (float32 rows, in the order asked)."""
        got = dict(self.catalog.embeddings.vectors(labels))
        return decode_matrix(got[l] for l in labels)

    def _decoded(self, labels: list[int]):
        return decode_vectors(self.catalog.embeddings.vectors(labels))

    def _load_features(self, labels: list[int]) -> dict:
        """Re-ranking features of indexed photos by label: the duplicates check's cached
        ones, else decoded small now (kept in memory by the FeatureCache, never stored)."""
        rows = self.catalog.photos.by_labels(labels)
        blobs = self.catalog.dedup.features([r.hash for r in rows.values() if r.hash], F.VERSION)
        out, todo = {}, []
        for label in labels:
            row = rows.get(label)
            f = F.Features.from_blob(blobs[row.hash]) if row and row.hash in blobs else None
            if f is not None:
                out[label] = f
            elif row is not None:
                todo.append((label, row.path))
            else:
                out[label] = None
        out.update(F.compute_many(todo, workers=max(1, min(4, os.cpu_count() or 1))))
        return out
