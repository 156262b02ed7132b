"""The map's t-SNE (retrieval/map.py) with the real openTSNE: its progress only moves forward
to the end, and photos that look alike stay together."""

from __future__ import annotations

import numpy as np
import pytest

from photofinder.retrieval import map as M


def _clusters(n_clusters=6, per=30, dim=1280, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim))
    x = np.repeat(centres, per, axis=0) + 0.6 * rng.normal(size=(n_clusters * per, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), \
        np.repeat(np.arange(n_clusters), per)


@pytest.mark.parametrize("settings", [{}, {"pca_dims": 50}])
def test_tsne_progress_moves_forward_and_alike_stay_together(settings):
    pytest.importorskip("openTSNE")
    x, kind = _clusters()
    said = []
    xy = M.tsne(x, lambda stage, done, total: said.append((done, total)), **settings)
    dones = [d for d, _ in said]
    assert dones == sorted(dones) and said[-1][0] == said[-1][1] == 750, said
    assert xy.shape == (len(x), 2) and xy.min() >= 0 and xy.max() <= M.SCALE + 1e-3
    d = ((xy[:, None] - xy[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1)[:, :5]
    assert (kind[nearest] == kind[:, None]).mean() > 0.95
