"""The projection pipeline: PCA-whitening maths, storage and versions, and a library whose
index is re-derived through it from the stored vectors without re-embedding."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import dbutil
from photofinder.library import Library
from photofinder.retrieval import projection as P


def test_whitening_decorrelates_and_equalises():
    rng = np.random.default_rng(0)
    # anisotropic, correlated data in 32-d
    x = rng.normal(size=(3000, 32)) @ rng.normal(size=(32, 32)) * np.linspace(5, 0.1, 32)
    p = P.fit_pca_whitening(x, 16, 8, shrink=0.0)
    y = (x - p.mean) @ p.matrix
    cov = np.cov(y, rowvar=False)
    assert np.allclose(cov, np.eye(16), atol=0.05)
    assert p.dim == 16 and p.index_dim == 8
    assert p.full(x).shape == (3000, 16) and p.reduced(x).shape == (3000, 8)
    assert np.allclose(np.linalg.norm(p.reduced(x), axis=1), 1.0, atol=1e-5)
    # never more components than the samples can tell apart
    assert P.fit_pca_whitening(x[:10], 256).dim == 9


def test_versions_and_storage_round_trip():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 24))
    p = P.fit_pca_whitening(x, 12, 6)
    q = P.load(p.to_bytes())
    assert q.version == p.version and q.version.startswith("pca-whiten-12x6@")
    assert np.array_equal(q.matrix, p.matrix) and q.trained_on == 500
    assert P.fit_pca_whitening(x[:400], 12, 6).version != p.version  # a refit is a new version
    with pytest.raises(ValueError):
        P.load(b"not an npz")


def test_refit_policy():
    assert not P.refit_due(P.MIN_TRAIN - 1, None)
    assert P.refit_due(P.MIN_TRAIN, None)
    p = P.fit_library(np.random.default_rng(2).normal(size=(300, 40)), 4000)
    assert p.trained_on == 4000
    assert not P.refit_due(5999, p) and P.refit_due(6000, p)
    assert P.describe(None)["version"] == "raw"


def test_library_rederives_its_index_through_the_whitening(tmp_path, photo_set, model):
    lib = Library(tmp_path / "lib")
    lib.add_folder(photo_set)
    lib.update()
    # from the first photo: the shipped principal axes (a compact graph, plain cosine)
    assert lib.status().projection["kind"] == "pca-axes"
    assert not lib.projections.refit()  # 40 photos: far too few to learn from
    indexed_at = dbutil.rows(lib, "SELECT id, indexed_at FROM photos ORDER BY id")
    assert lib.projections.refit(force=True)
    st = lib.status().projection
    assert st["kind"] == "pca-whiten" and st["trained_on"] == 40 and st["dim"] == 39
    meta = json.loads((tmp_path / "lib" / "index.json").read_text())
    assert meta["space"] == st["version"] and meta["dim"] == 39
    assert dbutil.rows(lib, "SELECT id, indexed_at FROM photos ORDER BY id") == indexed_at
    # still finds the edited copies first, in the whitened space, querying unturned
    q = photo_set / "originals" / "coffee.jpg"
    assert lib.search.query(q).vectors.shape[0] == 1
    got = [os.path.basename(m.path) for m in lib.similar(q, top=3)]
    assert set(got) == {"coffee-resized.jpg", "coffee-cropped.jpg", "coffee-recompressed.jpg"}
    # the duplicates' range search still answers raw cosines (their thresholds are raw)
    labels = lib.catalog.embeddings.labels(lib.embedder.model_id)
    raw = lib.space.stored_vectors(labels)
    found, sims = lib.space.index.search_many(raw[:5], 4)
    exact = raw[:5] @ raw.T
    for row in range(5):
        want = {labels[j]: exact[row, j] for j in range(len(labels))}
        assert np.allclose(sims[row], [want[int(l)] for l in found[row]], atol=1e-4)
        assert list(sims[row]) == sorted(sims[row], reverse=True)
        assert found[row][0] == labels[row]
    lib.close()
    # a reopened library loads the saved index as it is (same projection version)
    lib = Library(tmp_path / "lib")
    assert len(lib.space.index) == 40 and not lib.space.index.rebuilt
    assert lib.space.index.space == st["version"]
    lib.close()
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "photofinder", "--library", str(tmp_path / "lib"),
                        "status"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"index: pca-whiten {st['version']} (learned from 40 photos)" in r.stdout


def test_principal_axes_rank_by_plain_cosine_in_a_compact_graph():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 64)) * np.linspace(4, 0.2, 64)
    p = P.fit_principal_axes(x, 16)
    assert p.dim == 64 and p.index_dim == 16 and p.kind == "pca-axes"
    assert np.allclose(p.axes.T @ p.axes, np.eye(16), atol=1e-5)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    assert np.allclose(p.full(x), unit, atol=1e-6)  # the ranking space is the raw one
    assert p.reduced(x).shape == (400, 16)
    q = P.load(p.to_bytes())
    assert q.version == p.version and q.version.startswith("pca-axes-64x16@")
    assert not P.whitens(p) and P.whitens(P.fit_pca_whitening(x, 8)) and not P.whitens(None)
    # the shipped axes count as no projection of the library's own: it learns one at MIN_TRAIN
    assert not P.refit_due(P.MIN_TRAIN - 1, p) and P.refit_due(P.MIN_TRAIN, p)


def test_the_shipped_axes_fit_the_model_and_say_where_they_came_from():
    p = P.shipped(1280)
    assert p is not None and p.dim == 1280 and p.index_dim == P.SHIPPED_INDEX_DIM
    assert P.shipped(512) is None  # a model of another size gets none
    from photofinder.assets import projection_path

    prov = json.loads(projection_path("provenance.json").read_text())
    assert prov["version"] == p.version and prov["samples"] >= 2000
    assert prov["debian_packages"] and len(prov["sources"]) == prov["pictures"]


def test_a_small_library_gets_a_compact_index_ranked_as_before(tmp_path, photo_set, model):
    lib = Library(tmp_path / "lib")
    lib.add_folder(photo_set)
    lib.update()
    meta = json.loads((tmp_path / "lib" / "index.json").read_text())
    assert meta["dim"] == P.SHIPPED_INDEX_DIM and meta["space"].startswith("pca-axes-")
    labels = lib.catalog.embeddings.labels(lib.embedder.model_id)
    raw = lib.space.stored_vectors(labels)
    # searched with the photo's vector, the scores are the raw cosines, best first
    got = lib.space.index.search(raw[0], 10)
    exact = raw @ raw[0]
    assert [l for l, _ in got] == [labels[i] for i in np.argsort(-exact, kind="stable")[:10]]
    assert np.allclose([s for _, s in got], np.sort(exact)[::-1][:10], atol=1e-4)
    # the photo is still queried turned four ways (the axes are no whitening)
    assert lib.search.query(photo_set / "originals" / "coffee.jpg").vectors.shape[0] == 4
