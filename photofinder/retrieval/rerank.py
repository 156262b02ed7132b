"""Spatial verification of the best results (Philbin et al., 2007): the query's local features
are matched against each of the ``TOP`` best results', and the more of them agree on one
affine map (RANSAC), the more the result's score is lifted toward 1.

The features and the fit are the duplicates check's own (dedup/features.py: ORB on the
picture at 320 px, strongest 400; dedup/verify.py ``inliers``): a photo the duplicates check
has seen has them in the catalogue already, any other is decoded small when it is first asked
for and kept in memory (``FeatureCache``), never stored: 400 ORB keypoints are 16 KB a photo,
ten times the index's whole budget (benchmarks/evaluate_settings.py measures both ways).

The score: ``s + (1 - s) * WEIGHT * clip((inliers - FROM) / (FULL - FROM), 0, 1)`` for a
result of cosine ``s``: the plain cosine when the local features do not agree (fewer than
``FROM`` inliers), up to halfway from it to 1 when ``FULL`` or more agree. It stays in
[-1, 1], never falls, and a lifted result passes only those it beats by geometry; results
below the ``TOP`` keep their cosine (each is below every verified one's cosine, so the list
stays best first). Tuned on half of holidays-dev's scenes (TOP 10/20/30, WEIGHT .25-1, FROM
4-15, FULL FROM+10..80), held-out half: mAP .869 -> .885.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

import numpy as np

from photofinder.dedup import features as F
from photofinder.dedup.verify import inliers

TOP = 10        # results verified (ms each: the match, plus a small decode when not cached)
WEIGHT = 0.5    # how far toward 1 full agreement lifts a score
FROM, FULL = 6, 16  # inliers where the lift starts and where it is whole

FeaturesOf = Callable[[list[int]], "dict[int, F.Features | None]"]


def lift(score: float, agree: int) -> float:
    """The final score of a result of cosine ``score`` with ``agree`` inliers."""
    share = min(1.0, max(0.0, (agree - FROM) / (FULL - FROM)))
    return score + (1.0 - score) * WEIGHT * share


def rerank(query: F.Features | None, hits: list[tuple[int, float]], features_of: FeaturesOf,
           top: int = TOP) -> list[tuple[int, float]]:
    """``hits`` (label, cosine), best first -> (label, final score), best first: the first
    ``top`` verified against ``query`` (no query features: ``hits`` as they are)."""
    if query is None or len(query.desc) == 0 or top <= 0 or not hits:
        return hits
    head = hits[:top]
    feats = features_of([label for label, _ in head])
    lifted = []
    for label, score in head:
        f = feats.get(label)
        lifted.append((label, lift(score, inliers(f, query.points, query.desc)) if f else score))
    lifted.sort(key=lambda h: -h[1])
    return lifted + hits[top:]


def compact(f: F.Features | None) -> F.Features | None:
    """What re-ranking needs of a photo's features (keypoints, descriptors; no picture)."""
    if f is None:
        return None
    return F.Features(np.empty((0, 0), np.uint8), f.points, f.desc, f.box, f.sharpness,
                      f.full_pixels)


class FeatureCache:
    """Photos' re-ranking features by label, in memory (about 16 KB each), the least recently
    used dropped past ``size``. ``load(labels)`` gives those not held (None: unreadable)."""

    def __init__(self, load: FeaturesOf, size: int = 2000):
        self._load = load
        self._size = size
        self._held: OrderedDict[int, F.Features | None] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, labels: list[int]) -> dict[int, F.Features | None]:
        with self._lock:
            out = {l: self._held[l] for l in labels if l in self._held}
            for l in out:
                self._held.move_to_end(l)
        missing = [l for l in labels if l not in out]
        if missing:
            got = {l: compact(f) for l, f in self._load(missing).items()}
            out.update(got)
            with self._lock:
                self._held.update(got)
                while len(self._held) > self._size:
                    self._held.popitem(last=False)
        return out

    def forget(self, labels) -> None:
        with self._lock:
            for l in labels:
                self._held.pop(l, None)
