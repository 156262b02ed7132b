"""Query expansion: alpha-weighted query expansion (alpha-QE, Radenovic et al.).

The new query is the old one plus its top ``n`` neighbours weighted by similarity**alpha,
L2-normalised. With n = 0 it is the plain query.
"""

from __future__ import annotations

import numpy as np


def alpha_qe(query: np.ndarray, neighbours: np.ndarray, sims: np.ndarray, alpha: float = 3.0
             ) -> np.ndarray:
    """``query`` (d,), ``neighbours`` (n, d) unit rows, ``sims`` (n,) their similarities."""
    q = np.asarray(query, np.float32)
    if len(neighbours) == 0:
        return q
    w = np.clip(np.asarray(sims, np.float32), 0.0, None) ** alpha
    out = q + (w[:, None] * np.asarray(neighbours, np.float32)).sum(axis=0)
    norm = float(np.linalg.norm(out))
    return out / norm if norm > 0 else q
