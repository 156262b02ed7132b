"""The user's marks on one query's results, applied at once (before any training).

Two steps, both plain maths on the stored raw vectors:
- the query moves towards the results marked "similar" and away from those marked "not
  similar" (Rocchio's relevance feedback), so the REST of the ranking changes too: photos like
  the confirmed ones rise, photos like the rejected ones sink;
- the marked results themselves are pinned: "similar" ones first, "not similar" ones last.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BETA = 0.6    # pull towards the mean of the "similar" results
GAMMA = 0.3   # push away from the mean of the "not similar" results


@dataclass(frozen=True)
class QueryFeedback:
    similar: np.ndarray       # (a, D) raw vectors of results marked similar
    not_similar: np.ndarray   # (b, D)
    similar_hashes: frozenset[str]
    not_similar_hashes: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.similar_hashes or self.not_similar_hashes)


def adjust_query(q: np.ndarray, fb: QueryFeedback) -> np.ndarray:
    """Rocchio: q + BETA * mean(similar) - GAMMA * mean(not similar), unit length. ``q`` is
    one vector (D,) or several views of one query (n, D), each moved alike."""
    q = np.asarray(q, np.float32)
    shift = np.zeros(q.shape[-1], np.float32)
    if len(fb.similar):
        shift += BETA * np.asarray(fb.similar, np.float32).mean(axis=0)
    if len(fb.not_similar):
        shift -= GAMMA * np.asarray(fb.not_similar, np.float32).mean(axis=0)
    out = q + shift
    n = np.linalg.norm(out, axis=-1, keepdims=True)
    return np.where(n > 0, out / np.maximum(n, 1e-12), q).astype(np.float32)


def pin(matches: list, hash_of: dict[int, str], fb: QueryFeedback) -> list:
    """Marked "similar" results first, "not similar" last (each keeps its score and gets
    ``mark``); ``hash_of`` maps a match's photo id to its content hash."""
    first, middle, last = [], [], []
    for m in matches:
        h = hash_of.get(m.photo_id)
        if h in fb.similar_hashes:
            m.mark = "similar"
            first.append(m)
        elif h in fb.not_similar_hashes:
            m.mark = "not_similar"
            last.append(m)
        else:
            middle.append(m)
    return first + middle + last
