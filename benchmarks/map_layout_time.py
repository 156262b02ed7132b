"""Time and quality of the library map's layout (retrieval/map.py: t-SNE, then the GUI's snap to
a grid, gui/map_view.snap_to_grid) on real vectors, for openTSNE settings side by side.

The vectors are read from a library's catalogue (read-only; the map's space: unit vectors, as
the shipped principal axes' ``full`` gives). Each setting is run ``--repeats`` times,
interleaved with the others in one process (the machine is shared: only medians and ratios
from the same run compare). Quality: the share of each photo's 10 nearest neighbours (cosine,
in the vectors) that are among its 10 nearest on the map, before and after the snap to the
grid; a random layout scores about 10 / n.

    python benchmarks/map_layout_time.py LIBRARY_DIR [--n 750] [--repeats 5] [--quick]

Prints JSON: per setting, median wall and CPU seconds, their ratio to the first setting
(the map as it was: n_jobs 2, 250 + 500 iterations), kNN preservation (raw, snapped).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import time

import numpy as np

from photofinder.gui.map_view import snap_to_grid
from photofinder.retrieval import map as M

SETTINGS = {  # name -> M.tsne keyword arguments
    "before (n_jobs 2, 250+500 it)": {"n_jobs": 2, "early_iter": 250, "n_iter": 500,
                                      "pca_dims": None},
    "n_jobs 1, 250+500 it": {"n_jobs": 1, "early_iter": 250, "n_iter": 500, "pca_dims": None},
    "n_jobs 1, PCA 50, 250+500 it": {"n_jobs": 1, "early_iter": 250, "n_iter": 500,
                                     "pca_dims": 50},
    "n_jobs 1, 125+250 it": {"n_jobs": 1, "early_iter": 125, "n_iter": 250, "pca_dims": None},
    "now (the defaults)": {},
}


def read_vectors(library: str, n: int) -> np.ndarray:
    db = sqlite3.connect(f"file:{library}/catalog.sqlite?mode=ro", uri=True)
    rows = db.execute("SELECT vector FROM embeddings ORDER BY id LIMIT ?", [n]).fetchall()
    db.close()
    x = np.stack([np.frombuffer(b, np.float16) for (b,) in rows]).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def knn_preserved(x: np.ndarray, xy: np.ndarray, k: int = 10) -> float:
    sims = x @ x.T
    np.fill_diagonal(sims, -np.inf)
    high = np.argpartition(-sims, k, axis=1)[:, :k]
    d = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    low = np.argpartition(d, k, axis=1)[:, :k]
    return float(np.mean([len(set(h) & set(lo)) / k for h, lo in zip(high, low)]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("library")
    ap.add_argument("--n", type=int, default=750)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="only before and now")
    a = ap.parse_args()
    x = read_vectors(a.library, a.n)
    settings = {k: v for i, (k, v) in enumerate(SETTINGS.items())
                if not a.quick or i in (0, len(SETTINGS) - 1)}
    runs: dict[str, list[tuple[float, float, float, float]]] = {s: [] for s in settings}
    snap_ms = []
    for rep in range(a.repeats):
        for name, kw in settings.items():
            t, c = time.perf_counter(), time.process_time()
            xy = M.tsne(x, seed=rep, **kw)
            wall, cpu = time.perf_counter() - t, time.process_time() - c
            t = time.perf_counter()
            snapped = snap_to_grid(xy)
            snap_ms.append(1000 * (time.perf_counter() - t))
            runs[name].append((wall, cpu, knn_preserved(x, xy), knn_preserved(x, snapped)))
    first = statistics.median(r[0] for r in runs[next(iter(SETTINGS))])
    first_cpu = statistics.median(r[1] for r in runs[next(iter(SETTINGS))])
    out = {"photos": len(x), "dim": int(x.shape[1]), "repeats": a.repeats,
           "snap_to_grid_ms_median": round(statistics.median(snap_ms), 1),
           "random_layout_knn": round(10 / len(x), 4), "settings": {}}
    for name, rs in runs.items():
        wall = statistics.median(r[0] for r in rs)
        cpu = statistics.median(r[1] for r in rs)
        out["settings"][name] = {
            "wall_s_median": round(wall, 3), "cpu_s_median": round(cpu, 3),
            "wall_ratio": round(wall / first, 3), "cpu_ratio": round(cpu / first_cpu, 3),
            "wall_s_all": [round(r[0], 2) for r in rs],
            "knn10_raw_median": round(statistics.median(r[2] for r in rs), 4),
            "knn10_snapped_median": round(statistics.median(r[3] for r in rs), 4)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
