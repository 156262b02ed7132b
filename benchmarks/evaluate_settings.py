"""Retrieval quality beside speed for each setting, to choose the defaults by numbers.

Sets: holidays-dev (../shared/evaldata: 100 scenes from other viewpoints) and "copies"
(../shared/testdata: edited, rotated and mirrored copies of 3 photos among distractors).
Every photo queries the rest by exact search (the query itself left out); mAP etc. from
photofinder.retrieval.metrics, the code `photofinder evaluate` uses. Embed speed is photos/s of
the model alone at that input size on this CPU (the decode is the same for every setting).

    python benchmarks/evaluate_settings.py [--sizes 256 352 448] [--int8 MODEL_DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit  # noqa: E402

from photofinder.pixels import imaging  # noqa: E402
from photofinder.pixels.embedding import preprocess  # noqa: E402
from photofinder.pixels.embedding.model import Embedder  # noqa: E402
from photofinder.retrieval import metrics  # noqa: E402
from photofinder.retrieval.expansion import alpha_qe  # noqa: E402
from photofinder.retrieval import projection as P  # noqa: E402

ROOT = Path(__file__).resolve().parents[1].parent / "shared"


def holidays() -> dict[str, str | None]:
    d = ROOT / "evaldata" / "holidays-dev"
    return {str(p): p.parent.name for p in sorted(d.glob("*/*.jpg"))}


def copies() -> dict[str, str | None]:
    t = ROOT / "testdata"
    out: dict[str, str | None] = {}
    for p in sorted((t / "pdq" / "bridge-mods").glob("*.jpg")):
        out[str(p)] = "bridge"
    for p in sorted((t / "pdq" / "reg-test-input" / "dih").glob("*")):
        out[str(p)] = "bridge"
    for p in sorted((t / "imagededup" / "mixed_images").glob("ukbench00120*")):
        out[str(p)] = "ukbench120"
    out[str(t / "pdq" / "reg-test-input" / "pen-and-coaster.png")] = "pen"
    out[str(t / "pdq" / "misc-images" / "c.png")] = "pen"
    for p in sorted((t / "pdq" / "reg-test-input" / "labelme-subset").glob("*")):
        out[str(p)] = None
    for p in sorted((t / "imagededup" / "base_images").glob("*")):
        if "ukbench00120" not in p.name:
            out[str(p)] = None
    return out


def load_images(paths: list[str], need: int) -> list[Image.Image]:
    out = []
    for p in paths:
        decoded, _, _ = imaging.load(p, need=need)
        out.append(decoded.image.convert("RGB"))
    return out


def embed(emb: Embedder, images: list[Image.Image], size: int, turn: int = 0
          ) -> tuple[np.ndarray, float]:
    arrays = [preprocess.prepare(im.rotate(90 * turn, expand=True) if turn else im, size)
              for im in images]
    t = time.perf_counter()
    out = np.concatenate([emb.embed(arrays[i:i + 8]) for i in range(0, len(arrays), 8)])
    return out, len(arrays) / (time.perf_counter() - t)


def score(sims: np.ndarray, groups: list[str | None]) -> dict:
    rankings = []
    for q, g in enumerate(groups):
        if g is None:
            continue
        n_rel = sum(1 for x in groups if x == g) - 1
        if n_rel < 1:
            continue
        s = sims[q].copy()
        s[q] = -np.inf
        order = np.argsort(-s, kind="stable")[:-1]
        rankings.append(([groups[i] == g for i in order], n_rel))
    m = metrics.summarize(rankings)
    return {"map": round(m.map, 4), "p@1": round(m.precision_at[1], 4),
            "r@10": round(m.recall_at[10], 4)}


def with_qe(v: np.ndarray, n: int, alpha: float = 3.0) -> np.ndarray:
    sims = v @ v.T
    out = np.empty_like(v)
    for q in range(len(v)):
        s = sims[q].copy()
        s[q] = -np.inf
        top = np.argsort(-s)[:n]
        out[q] = alpha_qe(v[q], v[top], s[top], alpha)
    return out @ v.T


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 352, 448])
    ap.add_argument("--int8", metavar="MODEL_DIR", help="also measure this (quantised) model")
    ap.add_argument("--rotations", type=int, nargs="*", default=[256],
                    help="sizes at which to measure the 4-rotation max query")
    args = ap.parse_args()
    sets = {"holidays": holidays(), "copies": copies()}
    sets = {k: v for k, v in sets.items() if v}
    models = {"float": Embedder(provider="cpu")}
    if args.int8:
        models["int8"] = Embedder(Path(args.int8), provider="cpu")
    images = {k: load_images(list(v), max(args.sizes)) for k, v in sets.items()}
    rows, vec_cache = [], {}
    for mname, emb in models.items():
        for size in args.sizes:
            row = {"model": mname, "size": size}
            for sname in sets:
                v, rate = embed(emb, images[sname], size)
                vec_cache[(mname, size, sname)] = v
                row[f"{sname}_embed_photos_per_s"] = round(rate, 1)
            # the whitening is learned as a library would: from all its photos (both sets)
            everything = np.concatenate([vec_cache[(mname, size, s)] for s in sets])
            whitenings = {f"whiten{d}_shrink{sh:g}": P.fit_pca_whitening(everything, d, shrink=sh)
                          for d in (128, 256) for sh in (0.1, P.SHRINK, 10.0)}
            for sname, paths in sets.items():
                groups = list(paths.values())
                v = vec_cache[(mname, size, sname)]
                res = {"plain": score(v @ v.T, groups)}
                for wname, p in whitenings.items():
                    w = p.full(v)
                    res[wname] = score(w @ w.T, groups)
                for n in (1, 2, 3):
                    res[f"qe{n}"] = score(with_qe(v, n), groups)
                if size in args.rotations:
                    turned = [v] + [embed(emb, images[sname], size, t)[0] for t in (1, 2, 3)]
                    res["rot4max"] = score(np.max([t @ v.T for t in turned], axis=0), groups)
                    # the library's defaults together: whitening + 4-rotation queries
                    p = whitenings[f"whiten256_shrink{P.SHRINK:g}"]
                    w = p.full(v)
                    res["whiten256+rot4max"] = score(
                        np.max([p.full(t) @ w.T for t in turned], axis=0), groups)
                row[sname] = res
            if mname != "float":
                for sname in sets:
                    a, b = vec_cache[("float", size, sname)], vec_cache[(mname, size, sname)]
                    cos = np.sum(a * b, axis=1)
                    row[f"{sname}_cosine_to_float"] = {"median": round(float(np.median(cos)), 4),
                                                       "min": round(float(cos.min()), 4)}
            rows.append(row)
            print(row, file=sys.stderr, flush=True)
    emit({"benchmark": "evaluate_settings", "cpu_cores": os.cpu_count(),
          "note": "shared 2-core machine: photos/s are noisy; compare within this run",
          "photos": {k: len(v) for k, v in sets.items()}, "rows": rows})


if __name__ == "__main__":
    main()
