"""Retrieval metrics over ranked lists, the query itself already left out.

A ranking is a sequence of booleans, best first: True where the item belongs to the query's
group. ``n_relevant`` is the size of the query's group less the query, so relevant items that
the ranking never reaches count as missed (precision 0 at their recall).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

RECALL_LEVELS = np.linspace(0.0, 1.0, 101)


def average_precision(ranking: Sequence[bool], n_relevant: int) -> float:
    """Mean of the precision at the rank of each relevant item (non-interpolated AP)."""
    if n_relevant <= 0:
        raise ValueError("a query needs at least one relevant item")
    hits = np.asarray(ranking, dtype=bool)
    if not hits.any():
        return 0.0
    ranks = np.flatnonzero(hits) + 1  # 1-based ranks of the relevant items found
    precisions = np.arange(1, len(ranks) + 1) / ranks
    return float(precisions.sum() / n_relevant)


def precision_at(ranking: Sequence[bool], k: int) -> float:
    """Relevant items among the first ``k``, over ``k`` (a short ranking counts as misses)."""
    return float(np.count_nonzero(np.asarray(ranking[:k], dtype=bool)) / k)


def recall_at(ranking: Sequence[bool], n_relevant: int, k: int) -> float:
    """Share of the query's relevant items found in the first ``k``."""
    return float(np.count_nonzero(np.asarray(ranking[:k], dtype=bool)) / n_relevant)


def pr_curve(ranking: Sequence[bool], n_relevant: int,
             levels: np.ndarray = RECALL_LEVELS) -> np.ndarray:
    """Interpolated precision (the best precision at any recall >= r) at each recall level."""
    hits = np.asarray(ranking, dtype=bool)
    found = np.cumsum(hits)
    ranks = np.arange(1, len(hits) + 1)
    recall = found / n_relevant
    precision = found / ranks
    out = np.zeros(len(levels))
    if len(hits) == 0:
        return out
    # best precision from each position to the end
    best_after = np.maximum.accumulate(precision[::-1])[::-1]
    idx = np.searchsorted(recall, levels, side="left")  # first position reaching recall r
    ok = idx < len(hits)
    out[ok] = best_after[idx[ok]]
    return out


@dataclass
class Summary:
    """The means over all queries."""

    queries: int
    map: float
    precision_at: dict[int, float]
    recall_at: dict[int, float]
    curve_recall: list[float] = field(default_factory=list)
    curve_precision: list[float] = field(default_factory=list)
    ap: list[float] = field(default_factory=list)


def summarize(rankings: Sequence[tuple[Sequence[bool], int]], ks: Sequence[int] = (1, 5, 10),
              recall_ks: Sequence[int] = (10,)) -> Summary:
    """Means over queries of AP, P@k, R@k and the interpolated PR curve."""
    if not rankings:
        raise ValueError("no queries: every group needs at least two photos")
    aps = [average_precision(r, n) for r, n in rankings]
    curve = np.mean([pr_curve(r, n) for r, n in rankings], axis=0)
    return Summary(
        queries=len(rankings),
        map=float(np.mean(aps)),
        precision_at={k: float(np.mean([precision_at(r, k) for r, _ in rankings])) for k in ks},
        recall_at={k: float(np.mean([recall_at(r, n, k) for r, n in rankings]))
                   for k in recall_ks},
        curve_recall=[float(x) for x in RECALL_LEVELS],
        curve_precision=[float(x) for x in curve],
        ap=aps,
    )
