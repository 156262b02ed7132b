"""The vector index at scale: build time, RAM, bytes a photo, first search after opening
(integrity check included), query p50/p99 and recall@10 against exact search, with numpy
brute force beside it in the same run.

Vectors carry the statistics of real embeddings: the model's vectors of real photos
(../shared/evaldata and ../shared/testdata, else scikit-image samples) give a mean and
principal axes; the synthetic photos are drawn from the Gaussian fitted in that PCA space
(isotropic noise in the rest), L2-normalised. The index is what a library of that size
holds: the PCA-whitening (retrieval/projection.py) learned from a sample, its leading
128 dimensions in store/index.py's VectorIndex (hnswlib, M=24, ef_construction=200, ef=400),
the candidates re-ranked in the 256-d whitened space with the raw float16 vectors (held in
RAM here as the catalogue holds them on disk). Recall@10 is against exact search in that
256-d ranking space; the brute force beside it is numpy over the 256-d vectors.

    python benchmarks/hnsw_million.py [--sizes 100000 1000000] [--queries 300]
"""

from __future__ import annotations

import os

# One query is a small matrix product: BLAS threads only add waiting on a busy CPU (measured:
# p50 32 ms with 2 threads beside other work, 0.7 ms with one). Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import glob  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, peak_rss_mb  # noqa: E402

from photofinder.retrieval import projection as P  # noqa: E402
from photofinder.store.index import EF_SEARCH, VectorIndex  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def real_vectors() -> np.ndarray:
    """The model's vectors of the real photos at hand."""
    from photofinder.pixels import imaging
    from photofinder.pixels.embedding import preprocess
    from photofinder.pixels.embedding.model import Embedder

    paths = [p for p in glob.glob(str(SHARED / "evaldata" / "**" / "*"), recursive=True)
             + glob.glob(str(SHARED / "testdata" / "**" / "*"), recursive=True)
             if p.lower().endswith((".jpg", ".jpeg", ".png")) and "modes" not in p]
    arrays = []
    for p in paths:
        try:
            arrays.append(preprocess.prepare(imaging.load(p, need=preprocess.LONG_SIDE)[0].image))
        except Exception:  # a damaged test file: not a photo
            continue
    if len(arrays) < 50:
        import skimage.data
        from PIL import Image

        for name in ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins"):
            a = getattr(skimage.data, name)()
            a = np.stack([a] * 3, -1) if a.ndim == 2 else a[..., :3]
            arrays.append(preprocess.prepare(Image.fromarray(a)))
    emb = Embedder(provider="cpu")
    return np.concatenate([emb.embed(arrays[i:i + 8]) for i in range(0, len(arrays), 8)])


OPEN_AND_SEARCH = """
import sys, time, numpy as np
from pathlib import Path
from photofinder.retrieval import projection as P
from photofinder.store.index import VectorIndex
def rss():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * 4096 / 2**20
path, tmp, n = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
proj = P.load((tmp / 'proj.npz').read_bytes())
q = np.load(tmp / 'q.npy')
before = rss()
t = time.perf_counter()
idx = VectorIndex(path, q.shape[1], 'bench', proj)
idx.open(list(range(n)), lambda m: iter(()))
idx.search(q[0], 10)
first = time.perf_counter() - t
assert not idx.rebuilt
print(first, rss() - before)
"""


class Generator:
    """Gaussian in the PCA space of real vectors, isotropic in the residual space."""

    def __init__(self, real: np.ndarray, seed: int = 0):
        self.mean = real.mean(0)
        _, s, vt = np.linalg.svd(real - self.mean, full_matrices=False)
        k = len(s) - 1
        self.axes = vt[:k]
        self.sd = s[:k] / np.sqrt(len(real) - 1)
        resid_var = max(((real - self.mean) ** 2).sum(1).mean() - (self.sd ** 2).sum(), 1e-8)
        self.resid_sd = np.sqrt(resid_var / real.shape[1])
        self.rng = np.random.default_rng(seed)

    def draw(self, n: int) -> np.ndarray:
        z = self.rng.standard_normal((n, len(self.sd))).astype(np.float32) * self.sd
        x = self.mean + z @ self.axes
        x += self.rng.standard_normal(x.shape).astype(np.float32) * self.resid_sd
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x.astype(np.float16).astype(np.float32)  # as stored: float16


def one_size(n: int, gen: Generator, queries: int, tmp: Path) -> dict:
    fit = gen.draw(min(n, P.FIT_SAMPLE))
    proj = P.fit_library(fit, n)
    path = tmp / f"i{n}.hnsw"
    raw16 = np.empty((n, fit.shape[1]), np.float16)  # the catalogue's float16 vectors

    def raw_vectors(labels):
        return raw16[np.asarray(labels)].astype(np.float32)

    idx = VectorIndex(path, fit.shape[1], "bench", proj, raw_vectors)
    idx.open([], lambda m: iter(()))
    full = np.empty((n, proj.dim), np.float32)  # the ranking space, for exact search
    t = time.perf_counter()
    chunk = 50000
    held_out = gen.draw(queries)  # queries: photos of the same kind, not in the index
    for start in range(0, n, chunk):
        raw = gen.draw(min(chunk, n - start))
        raw16[start:start + len(raw)] = raw
        full[start:start + len(raw)] = proj.full(raw)
        idx.add(list(range(start, start + len(raw))), raw)
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    idx.save()
    save_s = time.perf_counter() - t
    size = path.stat().st_size
    del idx
    # first search after opening, in a fresh process: checksum, load, one query; its RSS
    # growth is what the index costs in RAM
    (tmp / "proj.npz").write_bytes(proj.to_bytes())
    np.save(tmp / "q.npy", held_out[:1])
    r = subprocess.run([sys.executable, "-c", OPEN_AND_SEARCH, str(path), str(tmp), str(n)],
                       capture_output=True, text=True, check=True)
    first_s, index_ram_mb = (float(x) for x in r.stdout.split())
    idx = VectorIndex(path, fit.shape[1], "bench", proj, raw_vectors)
    idx.open(list(range(n)), lambda m: iter(()))
    assert not idx.rebuilt
    qr = proj.full(held_out)
    lat, got = [], []
    for q in held_out:
        t = time.perf_counter()
        hits = idx.search(q, 10)
        lat.append(time.perf_counter() - t)
        got.append([l for l, _ in hits])
    bf, recall, exact = [], [], []
    for i, q in enumerate(qr):
        t = time.perf_counter()
        sims = full @ q
        top = np.argpartition(-sims, 10)[:10]
        bf.append(time.perf_counter() - t)
        exact.append(set(top.tolist()))
        recall.append(len(exact[i] & set(got[i])) / 10)
    by_ef = {}
    for ef in (100, 200, 800, 1200, 1600):  # the frontier around the default
        lat_e, rec_e = [], []
        for i, q in enumerate(held_out):
            t = time.perf_counter()
            hits = idx.search(q, 10, ef=ef)
            lat_e.append(time.perf_counter() - t)
            rec_e.append(len(set(exact[i]) & {l for l, _ in hits}) / 10)
        by_ef[str(ef)] = {"p50_ms": round(float(np.percentile(lat_e, 50)) * 1000, 3),
                          "recall_at_10": round(float(np.mean(rec_e)), 4)}
    os.unlink(path)
    return {
        "ef_default": EF_SEARCH,
        "other_ef": by_ef,
        "vectors": n,
        "index_dim": proj.index_dim,
        "rerank_dim": proj.dim,
        "build_s": round(build_s, 1),
        "build_vectors_per_s": round(n / build_s),
        "save_s": round(save_s, 2),
        "index_file_bytes": size,
        "bytes_per_photo_on_disk": round(size / n),
        "index_ram_mb": round(index_ram_mb, 1),
        "bytes_per_photo_in_ram": round(index_ram_mb * 2**20 / n),
        "first_search_after_open_s": round(first_s, 3),
        "query_ms": {"p50": round(float(np.percentile(lat, 50)) * 1000, 3),
                     "p99": round(float(np.percentile(lat, 99)) * 1000, 3)},
        "recall_at_10_vs_exact": round(float(np.mean(recall)), 4),
        "numpy_brute_force_ms": {"p50": round(float(np.percentile(bf, 50)) * 1000, 2),
                                 "p99": round(float(np.percentile(bf, 99)) * 1000, 2)},
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()
    real = real_vectors()
    gen = Generator(real)
    out = {"benchmark": "hnsw_million", "cpu_cores": os.cpu_count(),
           "note": "shared 2-core machine; timings noisy",
           "real_vectors_fitted": len(real), "raw_dim": real.shape[1],
           "raw_float32_bytes_per_photo_before": real.shape[1] * 4, "sizes": []}
    with tempfile.TemporaryDirectory(prefix="pf-hnsw-") as tmp:
        for n in args.sizes:
            r = one_size(n, gen, args.queries, Path(tmp))
            out["sizes"].append(r)
            print(r, file=sys.stderr, flush=True)
    out["peak_rss_mb"] = peak_rss_mb()
    emit(out)


if __name__ == "__main__":
    main()
