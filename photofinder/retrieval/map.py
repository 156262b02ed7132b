"""A 2-D map of the library: t-SNE (openTSNE, the optional ``map`` extra) over the vectors in
the space the index searches (the active projection's, else raw), cached in a file beside the
catalogue (``map.npz``: plain arrays, no pickle) keyed by that space.

New photos are placed without recomputing: each goes to the similarity-weighted median of its
nearest mapped neighbours (what openTSNE's ``prepare_partial`` uses to start a ``transform``,
without keeping its affinity state, which cannot be stored without pickle). Removed photos
drop out. When placed photos outnumber half of those the t-SNE saw, or the space changes (a
new projection version), the map is computed afresh.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from photofinder.errors import PhotofinderError

EXTRA_HINT = ("the map of the library needs openTSNE (the map extra): "
              "pip install 'photofinder[map]'")
NEIGHBOURS = 10     # mapped neighbours a new photo is placed among
RECOMPUTE = 0.5     # placed / computed ratio that calls for a fresh t-SNE
SCALE = 1000.0      # coordinates are scaled into [0, SCALE] on the longer side

Progress = Callable[[str, int, int], None]


class MapError(PhotofinderError):
    """The map cannot be made (no openTSNE, too few photos); one line for the user."""


@dataclass
class MapCoordinates:
    labels: np.ndarray      # (n,) int64 vector labels
    xy: np.ndarray          # (n, 2) float32 in [0, SCALE]
    space: str              # the vectors' version (model + projection) they were made in
    computed: int           # how many photos the last full t-SNE saw

    def save(self, path: Path) -> None:
        tmp = Path(f"{path}.{os.getpid()}.tmp.npz")
        np.savez(tmp, labels=self.labels.astype(np.int64), xy=self.xy.astype(np.float32),
                 space=np.array(self.space), computed=np.array(self.computed))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> "MapCoordinates | None":
        try:
            with np.load(path, allow_pickle=False) as z:
                return cls(z["labels"], z["xy"], str(z["space"]), int(z["computed"]))
        except (OSError, ValueError, KeyError):
            return None  # no cache, or a damaged one: computed again


def _fit_box(xy: np.ndarray) -> np.ndarray:
    lo = xy.min(axis=0)
    span = float((xy.max(axis=0) - lo).max()) or 1.0
    return ((xy - lo) * (SCALE / span)).astype(np.float32)


def tsne(vectors: np.ndarray, progress: Progress | None = None, seed: int = 0,
         n_jobs: int = 1, early_iter: int = 250, n_iter: int = 500,
         pca_dims: int | None = None) -> np.ndarray:
    """2-D t-SNE of unit vectors (cosine), scaled into the map's box: ``early_iter``
    iterations of early exaggeration, then ``n_iter``; with ``pca_dims``, on the vectors'
    leading principal components (euclidean: for unit vectors the same order as cosine).
    One thread by default: openTSNE's Barnes-Hut threads wait for each other at every
    iteration, and on a busy machine (the GUI's own threads, other programs) two took 8x the
    time of one for the same layout (benchmarks/map_layout_time.py: 750 photos, 31.7 s vs
    3.5 s on 2 shared cores; kNN preservation the same)."""
    n = len(vectors)
    if n < 3:
        return np.array([[0.0, 0.0], [SCALE, 0.0]], np.float32)[:n]
    try:
        from openTSNE import TSNE
    except ImportError:
        raise MapError(EXTRA_HINT) from None
    x = np.asarray(vectors, np.float32)
    metric = "cosine"
    if pca_dims is not None and pca_dims < min(x.shape):
        centred = x - x.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        x, metric = np.ascontiguousarray(centred @ vt[:pca_dims].T), "euclidean"
    iters = early_iter + n_iter
    seen = {"base": 0, "last": 0}

    def cb(iteration, error, embedding):  # each phase counts from 0: the count goes forward
        if iteration < seen["last"]:
            seen["base"] += seen["last"]
        seen["last"] = iteration
        if progress:
            progress("arranging the map", min(seen["base"] + iteration, iters), iters)
        return False

    # (openTSNE annotates perplexity as int; it takes a float, and a small library's is one)
    emb = TSNE(perplexity=float(min(30.0, max(1.0, (n - 1) / 3.0))),  # pyright: ignore[reportArgumentType]
               metric=metric, early_exaggeration_iter=early_iter, n_iter=n_iter,
               n_jobs=n_jobs, random_state=seed, verbose=False, callbacks=cb,
               callbacks_every_iters=25).fit(x)
    return _fit_box(np.asarray(emb, np.float64))


def place(new: np.ndarray, known: np.ndarray, known_xy: np.ndarray,
          k: int = NEIGHBOURS) -> np.ndarray:
    """Positions for ``new`` vectors among mapped ones: the weighted median of the positions
    of their ``k`` most similar mapped vectors (weights: similarity)."""
    out = np.empty((len(new), 2), np.float32)
    if len(known) == 0:
        out[:] = SCALE / 2
        return out
    k = min(k, len(known))
    for start in range(0, len(new), 512):
        sims = np.asarray(new[start:start + 512], np.float32) @ np.asarray(known, np.float32).T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        for i, nb in enumerate(top):
            w = np.maximum(sims[i, nb], 1e-3)
            for d in range(2):
                vals = known_xy[nb, d]
                order = np.argsort(vals)
                cw = np.cumsum(w[order])
                out[start + i, d] = vals[order][np.searchsorted(cw, cw[-1] / 2)]
    return out


def update(cached: MapCoordinates | None, labels: list[int], space: str,
           vectors_of: Callable[[list[int]], np.ndarray], progress: Progress | None = None
           ) -> tuple[MapCoordinates, bool]:
    """The map of ``labels`` (the library now) from the cached one: placed incrementally when
    it can be, else computed. ``vectors_of(labels)`` gives unit vectors in the map's space.
    Returns (map, whether it changed)."""
    want = np.asarray(sorted(set(labels)), np.int64)
    if cached is not None and cached.space == space:
        keep = np.isin(cached.labels, want)
        have_labels, have_xy = cached.labels[keep], cached.xy[keep]
        new = np.setdiff1d(want, have_labels)
        placed_total = len(want) - min(cached.computed, len(have_labels))
        if len(new) == 0:
            m = MapCoordinates(have_labels, have_xy, space, cached.computed)
            return m, bool((~keep).any())
        if placed_total <= RECOMPUTE * max(cached.computed, 1) and len(have_labels):
            if progress:
                progress("placing new photos", 0, len(new))
            known = vectors_of([int(x) for x in have_labels])
            xy = place(vectors_of([int(x) for x in new]), known, have_xy)
            labels_out = np.concatenate([have_labels, new])
            xy_out = np.concatenate([have_xy, xy])
            order = np.argsort(labels_out)
            return MapCoordinates(labels_out[order], xy_out[order], space, cached.computed), True
    if len(want) == 0:
        return MapCoordinates(want, np.empty((0, 2), np.float32), space, 0), True
    if progress:
        progress("reading vectors", 0, len(want))
    xy = tsne(vectors_of([int(x) for x in want]), progress)
    return MapCoordinates(want, xy, space, len(want)), True
