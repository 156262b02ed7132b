"""Projections through the door: the whitening learned from the library, the learned
projection (switchable), the map of the library."""

from __future__ import annotations

from typing import Callable

import numpy as np

from photofinder.library.errors import LibraryError, LibraryMap


class ProjectionMixin:
    # -- projection (whitening learned from the library's own vectors) ----------------------
    def _projection_version(self) -> str:
        rec = self.catalog.projections.active(self.embedder.model_id)
        if rec:
            return rec.version
        p = self._shipped_projection()
        return p.version if p is not None else "raw"

    def _shipped_projection(self):
        from photofinder.retrieval import projection as P

        return P.shipped(self.embedder.dim)

    def projection(self):
        """The active retrieval.projection for this model: the library's own (a whitening,
        a learned metric), else the shipped principal axes (a compact graph ranked by plain
        cosine), else None (plain vectors)."""
        from photofinder.retrieval import projection as P

        rec = self.catalog.projections.active(self.embedder.model_id)
        return P.load(rec.data) if rec else self._shipped_projection()

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
        count = self.catalog.embeddings.count(model)
        current = self.projection()
        if current is not None and current.kind == "learned" and not force:
            return False  # a learned projection holds its own whitening: retrain to renew it
        if not (P.refit_due(count, current) or (force and count >= 2)):
            return False
        self.lock()
        blobs = self.catalog.embeddings.sample(model, P.FIT_SAMPLE)
        sample = np.stack([np.frombuffer(b, np.float16) for b in blobs]).astype(np.float32)
        p = P.fit_library(sample, count)
        self.catalog.projections.save(model, p.version, p.kind, p.trained_on, p.to_bytes())
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
        self.catalog.projections.save(model, p.version, p.kind, p.trained_on, p.to_bytes())
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
        items = {it.label: it for it in self.catalog.embeddings.items(model)}
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
        self.catalog.projections.deactivate_kind(self.embedder.model_id, "learned")
        self._index = None
        self.refit_projection()  # a library big enough for whitening gets it back
        self.index.save()
        return self.projection_status()
