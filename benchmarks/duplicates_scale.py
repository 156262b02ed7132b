"""Time and memory of ``duplicates.find_groups`` over a large library; prints JSON.

The library is a real catalogue + HNSW index, filled with SYNTHETIC data (no photos to
embed): N random unit vectors (float16, 1280-d) with random 48x48 signatures, plus a planted
set of near-duplicate pairs (vector + small noise, signature + small noise) and exact pairs
(same content hash). Usage: python benchmarks/duplicates_scale.py [N] [LIBRARY_DIR]
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import threading
import time

import numpy as np


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def build(lib, n: int, planted: int, rng) -> None:
    from photofinder.dedup.signature import SIDE

    cat = lib.catalog
    dim, model = lib.embedder.dim, lib.embedder.model_id
    folder = cat.add_folder("/synthetic")
    chunk = 5000
    pid = 0
    base_sigs = rng.integers(0, 256, (planted, SIDE * SIDE), dtype=np.uint8)
    base_vecs = rng.standard_normal((planted, dim)).astype(np.float32)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        vecs = rng.standard_normal((m, dim)).astype(np.float32)
        sigs = rng.integers(0, 256, (m, SIDE * SIDE), dtype=np.uint8)
        hashes = [f"h{start + i:012d}" for i in range(m)]
        for i in range(m):  # planted near pairs: photo 2k and 2k+1 for k < planted
            g = start + i
            if g < 2 * planted:
                k = g // 2
                vecs[i] = base_vecs[k] + 0.25 * rng.standard_normal(dim)
                noise = rng.integers(-6, 7, SIDE * SIDE)
                sigs[i] = np.clip(base_sigs[k].astype(int) + noise, 0, 255)
            elif g < 2 * planted + planted // 2 * 2 and (g - 2 * planted) % 2 == 1:
                hashes[i] = hashes[i - 1]  # planted exact pairs
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        with cat.transaction():
            for i in range(m):
                pid += 1
                cat.db.execute(
                    "INSERT INTO photos(id, folder_id, path, size, mtime_ns, dev, ino, hash, width, "
                    "height, format, status) VALUES (?,?,?,?,?,?,?,?,?,?,?, 'indexed')",
                    [pid, folder["id"], f"/synthetic/{pid:07d}.jpg", 1000000, 0, 1, pid, hashes[i],
                     4000, 3000, "JPEG"])
                cat.db.execute("INSERT INTO embeddings(photo_id, model, vector) VALUES (?,?,?)",
                               [pid, model, vecs[i].astype(np.float16).tobytes()])
                cat.set_signature(pid, sigs[i].tobytes())


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    root = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="pf-dupscale-")
    from photofinder.dedup import finder as D
    from photofinder.library import Library

    rng = np.random.default_rng(1)
    planted = n // 200
    out = {"photos": n, "data": "synthetic random vectors and signatures in a real catalogue "
           "and HNSW index", "planted_near_pairs": planted, "planted_exact_pairs": planted // 2}
    lib = Library(os.path.join(root, "lib"))
    if lib.catalog.counts()["indexed"] < n:
        t = time.monotonic()
        build(lib, n, planted, rng)
        out["build_catalogue_s"] = round(time.monotonic() - t, 1)
        t = time.monotonic()
        lib.index  # builds the HNSW index from the stored vectors
        lib.lock()
        lib.index.save()
        out["build_index_s"] = round(time.monotonic() - t, 1)
    lib.close()
    lib = Library(os.path.join(root, "lib"))
    lib.index
    peak = [rss_mb()]
    stop = threading.Event()

    def sample():
        while not stop.wait(0.2):
            peak[0] = max(peak[0], rss_mb())

    th = threading.Thread(target=sample, daemon=True)
    before = rss_mb()
    th.start()
    stats: dict = {}
    t = time.monotonic()
    groups = lib.duplicates(stats=stats)
    out["duplicates_s"] = round(time.monotonic() - t, 2)
    stop.set()
    th.join()
    found_near = sum(1 for g in groups if any(m.kind == "near" for m in g.members))
    out.update(groups=len(groups), groups_with_near=found_near, stats=stats,
               rss_before_mb=round(before), rss_peak_during_mb=round(peak[0]),
               rss_growth_mb=round(peak[0] - before),
               maxrss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    lib.close()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
