"""The search pipeline behind "Find similar": index kNN, then optional query expansion.

``Searcher`` takes the vector index and a source of the stored vectors (labels -> float32
rows), never the Library. Scores are the index's similarities (cosine in its space).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from photofinder.retrieval.expansion import alpha_qe

VectorsOf = Callable[[list[int]], np.ndarray]


@dataclass(frozen=True)
class SearchOptions:
    """Defaults chosen by benchmarks/evaluate_settings.py on holidays-dev and edited copies:
    query expansion lost mAP at the 256-px input (off); querying with the photo turned 4 ways
    and keeping each result's best score gained 0.012 with plain vectors (on) but lost 0.022
    on top of a whitening (the Library queries unturned once it whitens)."""

    qe: int = 0            # alpha-QE over the top ``qe`` results (0: off)
    alpha: float = 3.0
    rotations: bool = True  # query with the photo turned 0/90/180/270 degrees, keep the max

    def describe(self) -> str:
        return f"alpha-QE top {self.qe}, alpha {self.alpha:g}" if self.qe else "off"


DEFAULT = SearchOptions()


class Searcher:
    def __init__(self, index, vectors_of: VectorsOf, options: SearchOptions = SearchOptions()):
        self.index = index
        self.vectors_of = vectors_of
        self.options = options

    def rank(self, vectors: np.ndarray, k: int, exclude: frozenset[int] | set[int] = frozenset()
             ) -> list[tuple[int, float]]:
        """The ``k`` best (label, score), best first, leaving out the ``exclude`` labels.
        ``vectors``: one query (d,), or several views of it (n, d) (the photo turned): each
        result keeps its best score over the views."""
        vectors = np.asarray(vectors, np.float32)
        if vectors.ndim == 1 or len(vectors) == 1:
            return self._rank_one(vectors.reshape(-1), k, exclude)
        best: dict[int, float] = {}
        for v in vectors:
            for label, score in self._rank_one(v, k, exclude):
                if score > best.get(label, -2.0):
                    best[label] = score
        return sorted(best.items(), key=lambda h: -h[1])[:k]

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
