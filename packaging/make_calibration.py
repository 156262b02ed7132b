"""Fit the similarity scale people see (retrieval/calibration.py): resources/calibration/
similarity.json, a logistic curve from "Find similar"'s final score to the chance that a
result shows the same place or object as the query.

Development time only (needs the model). The photos: holidays-dev (one folder per scene). Every
photo queries the library (the rest of holidays-dev) through ``Library.similar`` with the
shipped settings, top ``TOP``; each result is a pair (score, same scene or not). The scenes are
split in two by their number: the curve is fitted on the even ones and checked on the odd ones
(held out): for each band of the calibrated chance, how many held-out pairs were the same scene.

    python packaging/make_calibration.py [HOLIDAYS_DEV] [--library DIR]

Prints the fit and the held-out check as JSON, and writes the curve with them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from photofinder.library import Library

TOP = 20
OUT = Path(__file__).resolve().parents[1] / "resources" / "calibration" / "similarity.json"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "evaldata" / "holidays-dev"


def pairs(lib: Library, root: Path) -> list[tuple[int, float, bool]]:
    """(query scene, score, same scene) for every photo's top results."""
    out = []
    for scene in sorted(p for p in root.iterdir() if p.is_dir()):
        for photo in sorted(scene.iterdir()):
            for m in lib.similar(str(photo), TOP):
                out.append((int(scene.name), m.score,
                            os.path.basename(os.path.dirname(m.path)) == scene.name))
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 50) -> tuple[float, float]:
    """Maximum likelihood a, b of p = sigmoid(a x + b) (Newton's method, a tiny ridge)."""
    a, b = 1.0, 0.0
    X = np.stack([x, np.ones_like(x)], axis=1)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(X @ np.array([a, b]))))
        g = X.T @ (p - y) + 1e-6 * np.array([a, b])
        H = (X * (p * (1 - p))[:, None]).T @ X + 1e-6 * np.eye(2)
        step = np.linalg.solve(H, g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-9:
            break
    return float(a), float(b)


def reliability(a: float, b: float, x: np.ndarray, y: np.ndarray) -> list[dict]:
    p = 1 / (1 + np.exp(-(a * x + b)))
    rows = []
    for lo in np.arange(0.0, 1.0, 0.1):
        sel = (p >= lo) & (p < lo + 0.1 if lo < 0.9 else p <= 1.0)
        if sel.sum():
            rows.append({"shown": f"{lo * 100:.0f}-{lo * 100 + 10:.0f}%", "pairs": int(sel.sum()),
                         "same_scene": round(float(y[sel].mean()), 3),
                         "mean_shown": round(float(p[sel].mean()), 3)})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    ap.add_argument("--library", help="a library of DATA already indexed (else a temporary one)")
    ap.add_argument("--dry-run", action="store_true", help="print, write nothing")
    args = ap.parse_args()
    root = Path(args.data).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        with Library(args.library or tmp) as lib:
            if not args.library:
                lib.add_folder(root)
                lib.update(duplicates=False)
            found = pairs(lib, root)
            scoring = lib.projection_status()
    scene = np.array([s for s, _, _ in found])
    x = np.array([v for _, v, _ in found], dtype=np.float64)
    y = np.array([t for _, _, t in found], dtype=np.float64)
    fit, held = scene % 2 == 0, scene % 2 == 1
    a, b = fit_logistic(x[fit], y[fit])
    p_held = 1 / (1 + np.exp(-(a * x[held] + b)))
    report = {
        "a": round(a, 6), "b": round(b, 6),
        "fitted_on": f"{root.name}: the even-numbered scenes, every photo's top {TOP}",
        "pairs_fitted": int(fit.sum()), "pairs_held_out": int(held.sum()),
        "held_out": {"brier": round(float(np.mean((p_held - y[held]) ** 2)), 4),
                     "bands": reliability(a, b, x[held], y[held])},
        "raw_score_at": {f"{c}%": round((np.log(c / (100 - c)) - b) / a, 3)
                         for c in (20, 50, 80, 90)},
        "scoring": {"projection": scoring.get("version") if isinstance(scoring, dict) else None,
                    "score": "Library.similar: cosine, re-ranked by local features"},
    }
    print(json.dumps(report, indent=2))
    if not args.dry_run:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
