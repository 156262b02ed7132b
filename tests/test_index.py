"""The hnswlib wrapper on its own: persistence, reconcile, deletions."""

from __future__ import annotations

import numpy as np

from photofinder.identity import decode_vectors, encode_vector
from photofinder.store.index import VectorIndex


def unit(rng, n, d=64):
    v = rng.normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def source(store):
    return lambda labels: decode_vectors((l, store[l]) for l in labels)


def test_reconcile_adds_missing_and_drops_extra(tmp_path):
    rng = np.random.default_rng(1)
    vecs = unit(rng, 300)
    store = {i + 1: encode_vector(v) for i, v in enumerate(vecs)}
    idx = VectorIndex(tmp_path / "i.hnsw", 64, "m")
    assert idx.open(list(store), source(store))["added"] == 300
    idx.save()
    # the catalogue lost 100 and gained 50 meanwhile
    for l in range(1, 101):
        del store[l]
    for i, v in enumerate(unit(rng, 50)):
        store[1000 + i] = encode_vector(v)
    idx2 = VectorIndex(tmp_path / "i.hnsw", 64, "m")
    rep = idx2.open(list(store), source(store))
    assert rep == {"added": 50, "removed": 100, "rebuilt": False}
    assert idx2.live == set(store)
    q = np.frombuffer(store[1010], np.float16).astype(np.float32)
    assert idx2.search(q, 1)[0][0] == 1010


def test_search_survives_mass_deletion(tmp_path):
    rng = np.random.default_rng(2)
    vecs = unit(rng, 500)
    idx = VectorIndex(tmp_path / "i.hnsw", 64, "m")
    idx.open([], source({}))
    idx.add(list(range(500)), vecs)
    idx.remove(range(3, 500))
    got = idx.search(vecs[0], 10)
    assert sorted(l for l, _ in got) == [0, 1, 2]
    assert got[0][0] == 0 and abs(got[0][1] - 1.0) < 1e-4


def test_model_change_rebuilds(tmp_path):
    rng = np.random.default_rng(3)
    store = {i: encode_vector(v) for i, v in enumerate(unit(rng, 20))}
    idx = VectorIndex(tmp_path / "i.hnsw", 64, "model-a")
    idx.open(list(store), source(store))
    idx.save()
    idx2 = VectorIndex(tmp_path / "i.hnsw", 64, "model-b")
    assert idx2.open(list(store), source(store))["rebuilt"] is True


def test_many_processes_opening_a_new_catalogue_at_once(tmp_path):
    """Schema migrations are taken by one process; the others see the result."""
    import subprocess
    import sys

    import time

    start = time.time() + 2.0  # all of them open the catalogue in the same instant
    code = ("import sys, time; from photofinder.store.catalog import Catalog; "
            "time.sleep(max(0, float(sys.argv[2]) - time.time())); "
            "c = Catalog(sys.argv[1]); print(c.meta.get('schema_version'))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "c.sqlite"), str(start)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(6)]
    outs = [p.communicate(timeout=120) for p in procs]
    from photofinder.store.catalog import SCHEMA_VERSION

    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    assert {o[0].strip() for o in outs} == {str(SCHEMA_VERSION)}


# -- integrity: a damaged index file is rebuilt, never loaded --------------------------------
HEADER = 96  # hnswlib's header: 8 size_t, 2 int32, 3 size_t, 1 double, 1 size_t (see hnswalg.h)

REOPEN = """
import sys, numpy as np
from photofinder.identity import decode_vectors, encode_vector
from photofinder.store.index import VectorIndex
rng = np.random.default_rng(7)
v = rng.normal(size=(400, 64)).astype(np.float32)
v /= np.linalg.norm(v, axis=1, keepdims=True)
store = {i + 1: encode_vector(x) for i, x in enumerate(v)}
idx = VectorIndex(sys.argv[1], 64, "m")
rep = idx.open(list(store), lambda ls: decode_vectors((l, store[l]) for l in ls))
hits = idx.search(v[5], 5)
print(rep["rebuilt"], hits[0][0])
"""


def _reopen(path):
    """Open the index in a child process, so that a crash in C++ is a failed test."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", REOPEN, str(path)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr[-500:]}"
    return r.stdout.split()


def _saved_index(tmp_path):
    path = tmp_path / "i.hnsw"
    assert _reopen(path) == ["True", "6"]  # built from the stored vectors
    # the child did not save (a reader); save once here the same way
    rng = np.random.default_rng(7)
    v = rng.normal(size=(400, 64)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    store = {i + 1: encode_vector(x) for i, x in enumerate(v)}
    idx = VectorIndex(path, 64, "m")
    idx.open(list(store), source(store))
    idx.save()
    assert _reopen(path) == ["False", "6"]  # a sound file loads as it is
    return path


def test_bad_neighbour_ids_rebuild_not_crash(tmp_path):
    path = _saved_index(tmp_path)
    data = bytearray(path.read_bytes())
    # element 0 of level 0: a link count, then its neighbour ids: point them far outside
    for j in range(8):
        off = HEADER + 4 + 4 * j
        data[off:off + 4] = (0x7FFFFFF0 + j).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    assert _reopen(path) == ["True", "6"]


def test_flipped_bytes_truncation_and_lost_meta_rebuild(tmp_path):
    path = _saved_index(tmp_path)
    good = path.read_bytes()
    data = bytearray(good)
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert _reopen(path) == ["True", "6"]
    path.write_bytes(good[: len(good) // 3])
    assert _reopen(path) == ["True", "6"]
    path.write_bytes(good)
    path.with_suffix(".json").write_text("{not json")
    assert _reopen(path) == ["True", "6"]
    path.with_suffix(".json").unlink()
    assert _reopen(path) == ["True", "6"]


def test_projected_index_reranks_in_the_full_space_and_answers_raw_cosines(tmp_path):
    from photofinder.retrieval.projection import fit_pca_whitening

    rng = np.random.default_rng(4)
    # like embeddings: most of the variance in a few directions
    raw = rng.normal(size=(600, 12)) @ rng.normal(size=(12, 96)) + 0.3 * rng.normal(size=(600, 96))
    raw = (raw / np.linalg.norm(raw, axis=1, keepdims=True)).astype(np.float32)
    proj = fit_pca_whitening(raw, 48, 16, shrink=10.0)  # graph: 16-d, ranking: 48-d
    store = {i: encode_vector(v) for i, v in enumerate(raw)}
    stored = np.stack([np.frombuffer(store[i], np.float16) for i in range(600)]).astype(np.float32)
    idx = VectorIndex(tmp_path / "i.hnsw", 96, "m", proj, lambda ls: stored[np.asarray(ls)])
    idx.open(list(store), source(store))
    assert idx.dim == 16 and idx.space == proj.version
    q = raw[7]
    got = idx.search(q, 10)
    full = proj.full(stored) @ proj.full(q[None])[0]
    assert [l for l, _ in got] == list(np.argsort(-full)[:10])
    assert np.allclose([s for _, s in got], np.sort(full)[::-1][:10], atol=1e-5)
    labels, sims = idx.search_many(stored[:3], 5)
    assert np.allclose(sims, np.take_along_axis(stored[:3] @ stored.T, labels, 1), atol=1e-5)
    idx.save()
    # the same projection loads the file; another version rebuilds it
    again = VectorIndex(tmp_path / "i.hnsw", 96, "m", proj, lambda ls: stored[np.asarray(ls)])
    assert again.open(list(store), source(store))["rebuilt"] is False
    other = fit_pca_whitening(raw[:500], 48, 16)
    third = VectorIndex(tmp_path / "i.hnsw", 96, "m", other, lambda ls: stored[np.asarray(ls)])
    assert third.open(list(store), source(store))["rebuilt"] is True
