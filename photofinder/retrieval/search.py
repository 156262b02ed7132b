"""The search pipeline behind "Find similar": index kNN over the query's views, database-side
augmentation of the best results, then optional query expansion.

``Searcher`` takes the vector index and a source of the stored vectors (labels -> float32
rows), never the Library. Scores are the index's similarities (cosine in its space), the
best ``dba`` of them augmented by their nearest photos (retrieval/augment.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from photofinder.retrieval import augment
from photofinder.retrieval.expansion import alpha_qe

VectorsOf = Callable[[list[int]], np.ndarray]


@dataclass(frozen=True)
class SearchOptions:
    """Defaults chosen by benchmarks/evaluate_settings.py on holidays-dev and edited copies:
    query expansion lost mAP at the 256-px input (off); querying with the photo turned 4 ways
    and keeping each result's best score gained 0.012 with plain vectors (on) but lost 0.022
    on top of a whitening (the Library queries unturned once it whitens). A turned view
    offers its ``turned_top`` best only (a turned scene scores near the top or not at all:
    holidays-dev the same at 20 as at all; three full searches were a fifth of a query's
    time at 100,000 photos). ``dba``: the best results augmented by their nearest photos
    (holidays-dev with the re-ranking: tuned half .9169 -> .9361, held-out .8816 -> .8942)."""

    qe: int = 0            # alpha-QE over the top ``qe`` results (0: off)
    alpha: float = 3.0
    rotations: bool = True  # query with the photo turned 0/90/180/270 degrees, keep the max
    turned_top: int = 30   # results each turned view offers (0: as many as the upright one)
    dba: int = augment.DEPTH  # best results augmented by their nearest photo (0: off)
    dba_alpha: float = augment.ALPHA

    def describe(self) -> str:
        return f"alpha-QE top {self.qe}, alpha {self.alpha:g}" if self.qe else "off"

    def describe_dba(self) -> str:
        return (f"the best {self.dba} with their nearest photo, alpha {self.dba_alpha:g}"
                if self.dba else "off")


DEFAULT = SearchOptions()


class Searcher:
    def __init__(self, index, vectors_of: VectorsOf, options: SearchOptions = SearchOptions()):
        self.index = index
        self.vectors_of = vectors_of
        self.options = options

    def rank(self, vectors: np.ndarray, k: int, exclude: frozenset[int] | set[int] = frozenset()
             ) -> list[tuple[int, float]]:
        """The ``k`` best (label, score), best first, leaving out the ``exclude`` labels.
        ``vectors``: one query (d,), or several views of it (n, d) (the photo upright, then
        turned): each result keeps its best score over the views."""
        vectors = np.asarray(vectors, np.float32)
        vectors = vectors.reshape(1, -1) if vectors.ndim == 1 else vectors
        hits = self._rank_one(vectors[0], k, exclude)
        if len(vectors) > 1:
            best = dict(hits)
            turned = min(k, self.options.turned_top) if self.options.turned_top > 0 else k
            for v in vectors[1:]:
                for label, score in self._rank_one(v, turned, exclude):
                    if score > best.get(label, -2.0):
                        best[label] = score
            hits = sorted(best.items(), key=lambda h: -h[1])[:k]
        if self.options.dba > 0 and hits:
            hits = self._augment(vectors, hits)
        return hits

    def _augment(self, views: np.ndarray, hits: list[tuple[int, float]]
                 ) -> list[tuple[int, float]]:
        """The best ``dba`` hits scored against themselves plus their nearest photo; the rest
        keep their order below them (their score no higher than the lowest augmented)."""
        head = [label for label, _ in hits[:self.options.dba]]
        raw = self.vectors_of(head)
        graph, _ = self.index.search_many(raw, augment.NEIGHBOURS, ef=augment.EF)
        others = sorted({int(x) for x in np.asarray(graph).ravel()} - set(head))
        labels = head + others
        rows = np.concatenate([raw, self.vectors_of(others)]) if others else raw
        space = self._ranking_space(rows)
        row_of = {label: i for i, label in enumerate(labels)}
        near, sims = augment.nearest_others(head, np.asarray(graph), space, row_of)
        scores = augment.augmented(self._ranking_space(views), space[:len(head)], space[near],
                                   sims, self.options.dba_alpha)
        order = np.argsort(-scores, kind="stable")
        out = [(head[i], float(scores[i])) for i in order]
        low = out[-1][1]
        return out + [(label, min(score, low)) for label, score in hits[len(head):]]

    def _ranking_space(self, raw: np.ndarray) -> np.ndarray:
        """Raw vectors as unit vectors of the space the index ranks in (its projection's
        full space: whitened, or the raw cosine)."""
        p = getattr(self.index, "projection", None)
        if p is not None:
            return np.atleast_2d(p.full(np.asarray(raw, np.float32)))
        return augment.unit(np.atleast_2d(np.asarray(raw, np.float32)))

    def _rank_one(self, vector: np.ndarray, k: int, exclude) -> list[tuple[int, float]]:
        if k <= 0:
            return []
        want = k + len(exclude)
        hits = self.index.search(vector, want)
        n = self.options.qe
        if n > 0 and hits:
            top = [(l, s) for l, s in hits if l not in exclude][:n]
            if top:
                neighbours = self.vectors_of([l for l, _ in top])
                q = alpha_qe(vector, neighbours, np.array([s for _, s in top]), self.options.alpha)
                hits = self.index.search(q, want)
        return [(l, s) for l, s in hits if l not in exclude][:k]
