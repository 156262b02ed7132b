"""Projections: the whitening the library learns from its own vectors as it grows, the
learned metric (switchable), and the 2-D map of the library in the same space."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from photofinder.identity import decode_matrix
from photofinder.pixels.embedding.model import ModelError
from photofinder.library.records import LibraryMap
from photofinder.library.space import VectorSpace
from photofinder.library.writer import Writer
from photofinder.retrieval import learn
from photofinder.retrieval import map as M
from photofinder.retrieval import projection as P
from photofinder.store.catalog import Catalog

Stages = Callable[[str, int, int], None]  # progress(stage, done, total)


class Projections:
    def __init__(self, catalog: Catalog, space: VectorSpace, writer: Writer, map_cache: Path):
        self.catalog = catalog
        self.space = space    # a new projection re-derives its index
        self.writer = writer
        self.map_cache = map_cache

    def status(self) -> dict:
        """What the index searches in (retrieval.projection.describe)."""
        try:
            return P.describe(self.space.projection())
        except ModelError:  # no model: no projection to speak of
            return P.describe(None)

    def refit(self, force: bool = False) -> bool:
        """Learn (again) the whitening from a sample of the stored vectors when the library
        has grown enough, store it as a new version and re-derive the index from the raw
        vectors (no re-embedding). Returns whether it refitted."""
        model = self.space.embedder.model_id
        count = self.catalog.embeddings.count(model)
        current = self.space.projection()
        if current is not None and current.kind == "learned" and not force:
            return False  # a learned projection holds its own whitening: retrain to renew it
        if not (P.refit_due(count, current) or (force and count >= 2)):
            return False
        with self.writer.held():
            blobs = self.catalog.embeddings.sample(model, P.FIT_SAMPLE)
            sample = decode_matrix(blobs)
            p = P.fit_library(sample, count)
            self._activate(p)
        return True

    def train(self, progress: Stages | None = None, use_torch: bool = False,
              max_photos: int | None = None) -> dict:
        """Learn the metric from this library's photos (edited copies) and the user's marks,
        make it the active projection and re-derive the index from the stored raw vectors
        (no re-embedding). Slow (decodes photos): a background job. Returns what it learned
        from and the new version."""
        with self.writer.held():
            embedder = self.space.embedder
            ts = learn.training_set(self.catalog, embedder.model_id, embedder, progress,
                                    max_photos=max_photos or learn.MAX_PHOTOS)
            p = learn.fit(ts, use_torch=use_torch, progress=progress)
            if progress:
                progress("re-deriving the index", 0, 1)
            self._activate(p)
        return {"version": p.version, "method": "learned whitening" +
                (" + contrastive fine-tuning (torch)" if use_torch else " (closed form)"),
                **ts.sources}

    def off(self) -> dict:
        """Switch the learned projection off: back to plain (the library's whitening when it
        has one, else raw vectors); the index is re-derived from the stored vectors."""
        with self.writer.held():
            self.catalog.projections.deactivate_kind(self.space.embedder.model_id, "learned")
            self.space.rederive()
            self.refit()  # a library big enough for whitening gets it back
            self.space.index.save()
        return self.status()

    def _activate(self, p) -> None:
        """Store ``p`` as the active projection; the index is derived through it now."""
        self.catalog.projections.save(self.space.embedder.model_id, p.version, p.kind,
                                      p.trained_on, p.to_bytes())
        self.space.rederive()
        self.space.index.save()

    def map(self, progress: Stages | None = None) -> LibraryMap:
        """Every indexed photo's place on a 2-D map of the library (retrieval/map.py: t-SNE
        over the vectors of the index's space, cached in ``map.npz`` and extended as photos
        are indexed). Slow the first time (a background job)."""
        model = self.space.embedder.model_id
        items = {it.label: it for it in self.catalog.embeddings.items(model)}
        space = f"{model}/{self.space.projection_version()}"
        proj = self.space.projection()

        def vectors_of(labels: list[int]) -> np.ndarray:
            raw = self.space.stored_vectors(labels)
            return proj.full(raw) if proj is not None else raw

        m, changed = M.update(M.MapCoordinates.load(self.map_cache), list(items), space,
                              vectors_of, progress)
        if changed and not self.writer.read_only:
            try:
                m.save(self.map_cache)
            except OSError:
                pass  # a cache only
        return LibraryMap([items[int(label)].path for label in m.labels], m.xy, m.space)
