"""Retrieval quality beside speed for each setting, to choose the defaults by numbers.

Sets: holidays-dev (../shared/evaldata: 100 scenes from other viewpoints) and "copies"
(../shared/testdata: edited, rotated and mirrored copies of 3 photos among distractors).
Every photo queries the rest by exact search (the query itself left out); mAP etc. from
photofinder.retrieval.metrics, the code `photofinder evaluate` uses. Embed speed is photos/s of
the model alone at that input size on this CPU (the decode is the same for every setting).

    python benchmarks/evaluate_settings.py [--sizes 256 352 448] [--int8 MODEL_DIR]
    python benchmarks/evaluate_settings.py [--frontier] [--regions] [--only WORD[,WORD]]

``--frontier``: the table the defaults are chosen from, one row a setting through the
library's own code (retrieval.projection, store.index.VectorIndex: a real HNSW graph saved to
disk, retrieval.rerank with dedup's features): holidays-dev mAP (and its two halves: even
scenes tuned the re-ranking, odd ones held out), copies mAP, photos/s (the model at that
input, plus the local features where a setting stores them), bytes a photo (the index file
and any stored features, / photos) and query ms (median: the graph's search of the query's
views, then the re-ranking with every candidate's features decoded afresh, as the first
search of a photo does). ``--regions``: "Find this" on holidays-dev, querying by the boxes in
benchmarks/data/holidays_regions.json and by centre crops of a quarter of the area, beside
the whole photo (each query's own scene's other photos are the relevant ones), each with and
without the spatial re-ranking. ``--only``: the frontier rows whose setting names one of the
words (the whole table takes about 20 minutes on 2 shared cores).

Each row ranks through retrieval.search.Searcher (the library's own: the turned views'
best ``turned_top``, then database-side augmentation of the best ``dba``) with the row's
options; the rows from before the augmentation turn both off.
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
ONLY: list[str] = []


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


class _Setting:
    def __init__(self, name, projection=None, rotations=True, rerank=True, scales=(256,),
                 stored_features=False, dba=False):
        self.name, self.projection, self.rotations = name, projection, rotations
        self.rerank, self.scales, self.stored_features = rerank, scales, stored_features
        self.dba = dba


_EMBEDDED: dict = {}


def _views(emb: Embedder, images: list[Image.Image], scales, rotations: bool):
    """Per photo: (views, d) unit vectors (turned 4 ways when ``rotations``), each view the
    mean of its scales' vectors; and photos/s of the model over those scales (unturned)."""
    from photofinder.retrieval.projection import _normalise

    turns = (0, 1, 2, 3) if rotations else (0,)
    per_turn, seconds = [], 0.0
    for t in turns:
        acc = 0
        for size in scales:
            key = (id(images), size, t)
            if key not in _EMBEDDED:
                _EMBEDDED[key] = embed(emb, images, size, t)
            v, rate = _EMBEDDED[key]
            acc = acc + v
            if t == 0:
                seconds += len(images) / rate
        per_turn.append(_normalise(acc))
    return np.stack(per_turn, axis=1), len(images) / seconds


def _frontier_rows(emb: Embedder, sets: dict, images: dict, work: Path) -> list[dict]:
    import tempfile

    from photofinder.dedup import features as F
    from photofinder.retrieval import rerank as R
    from photofinder.retrieval.search import DEFAULT, Searcher, SearchOptions
    from photofinder.store.index import VectorIndex

    feats = {k: [F.compute(p) for p in v] for k, v in sets.items()}
    one = next(f for fs in feats.values() for f in fs if f is not None)
    feature_bytes = len(R.compact(one).points) * 8 + len(R.compact(one).desc) * 32
    t = time.perf_counter()
    for p in list(sets["holidays"])[:40]:
        F.compute(p)
    feature_s = (time.perf_counter() - t) / 40
    raw256 = {k: _views(emb, images[k], (256,), True)[0][:, 0] for k in sets}
    everything = np.concatenate(list(raw256.values()))
    settings = [
        _Setting("before: raw 1280-d graph, 4-rotation query", None, True, False),
        _Setting("shipped axes: 128-d graph, raw cosine", P.shipped(everything.shape[1]), True,
                 False),
        _Setting("shipped axes + re-rank top 10", P.shipped(everything.shape[1])),
        _Setting("shipped axes + augmentation + re-rank top 10 (default)",
                 P.shipped(everything.shape[1]), dba=True),
        _Setting("+ features stored per photo", P.shipped(everything.shape[1]),
                 stored_features=True),
        _Setting("+ multi-scale GeM 192+256+352", P.shipped(everything.shape[1]),
                 scales=(192, 256, 352)),
        _Setting("library whitening 256/128 (>= 2,000 photos), unturned + re-rank",
                 P.fit_library(everything, len(everything)), rotations=False),
        _Setting("library whitening 256/128 (>= 2,000 photos), unturned + augmentation + "
                 "re-rank", P.fit_library(everything, len(everything)), rotations=False,
                 dba=True),
    ]
    only = [w for a in ONLY for w in a.split(",") if w]
    if only:
        settings = [st for st in settings if any(w in st.name for w in only)]
    rows = []
    for st in settings:
        row = {"setting": st.name}
        for sname, paths in sets.items():
            groups = list(paths.values())
            views, rate = _views(emb, images[sname], st.scales, st.rotations)
            flat = views[:, 0]
            with tempfile.TemporaryDirectory(dir=work) as tmp:
                idx = VectorIndex(Path(tmp) / "index.hnsw", flat.shape[1], "bench", st.projection,
                                  lambda labels, v=flat: v[labels])
                idx.open(list(range(len(flat))), lambda m, v=flat: iter([(m, v[m])]))
                idx.save()
                size = (Path(tmp) / "index.hnsw").stat().st_size
            n = len(flat)
            row[f"{sname}_bytes_per_photo"] = round(size / n + (feature_bytes if
                                                                  st.stored_features else 0))
            row[f"{sname}_photos_per_s"] = round(1 / (1 / rate + (feature_s if st.stored_features
                                                                   else 0)), 1)
            options = SearchOptions(rotations=st.rotations, dba=DEFAULT.dba if st.dba else 0,
                                    turned_top=DEFAULT.turned_top if st.dba else 0)
            rankings, times = [], []
            for q, g in enumerate(groups):
                t = time.perf_counter()
                hits = Searcher(idx, lambda labels, v=flat: v[labels], options).rank(
                    views[q], n, {q})
                if st.rerank:
                    cache = (lambda ls, f=feats[sname]: {l: R.compact(f[l]) for l in ls}) \
                        if st.stored_features else \
                        (lambda ls, ps=list(paths): {l: F.compute(ps[l]) for l in ls})
                    qf = F.compute(list(paths)[q])
                    hits = R.rerank(qf, hits, cache)
                times.append((time.perf_counter() - t) * 1000)
                if g is None or sum(1 for x in groups if x == g) < 2:
                    continue
                rankings.append((g, [groups[l] == g for l, _ in hits],
                                 sum(1 for x in groups if x == g) - 1))
            summ = metrics.summarize([(r, k) for _, r, k in rankings])
            row[f"{sname}_map"] = round(summ.map, 4)
            if sname == "holidays":
                scenes = sorted({g for g, _, _ in rankings})
                for half, keep in (("tuned", set(scenes[0::2])), ("held_out", set(scenes[1::2]))):
                    row[f"holidays_map_{half}"] = round(metrics.summarize(
                        [(r, k) for g, r, k in rankings if g in keep]).map, 4)
            row[f"{sname}_query_ms"] = round(float(np.median(times)), 1)
        rows.append(row)
        print(row, file=sys.stderr, flush=True)
    return rows


def _region_rows(emb: Embedder, work: Path) -> list[dict]:
    """Find this on holidays-dev, through the Library (its index, its re-ranking)."""
    import json
    import tempfile

    from photofinder.library import Library

    boxes = json.loads((Path(__file__).parent / "data" / "holidays_regions.json").read_text())
    root = ROOT / "evaldata" / "holidays-dev"
    rows = []
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        lib = Library(Path(tmp) / "lib", embedder=emb)
        lib.add_folder(root)
        lib.update(duplicates=False)
        group_of = {str(p): p.parent.name for p in root.glob("*/*.jpg")}
        n = len(group_of)
        for kind in ("whole photo", "drawn box", "centre quarter"):
            for verified in (False, True):
                rankings, times = [], []
                for scene, b in sorted(boxes["boxes"].items()):
                    q = str(root / b["query"])
                    w, h = Image.open(q).size
                    region = {"whole photo": None, "drawn box": tuple(b["box"]),
                              "centre quarter": (w // 4, h // 4, w // 2, h // 2)}[kind]
                    t = time.perf_counter()
                    if verified:
                        got = lib.similar(q, top=n, region=region)
                    else:  # the crop's (or photo's) vectors alone, no spatial verification
                        query = lib.search.region_query(q, region) if region else \
                            lib.search.query(q)
                        got = lib.search.matches(query, n, rerank=False)
                    times.append((time.perf_counter() - t) * 1000)
                    rel = sum(1 for g in group_of.values() if g == scene) - 1
                    rankings.append(([group_of.get(m.path) == scene for m in got], rel))
                s = metrics.summarize(rankings)
                rows.append({"query": kind, "re_ranked": verified, "queries": len(rankings),
                             "map": round(s.map, 4), "p@1": round(s.precision_at[1], 4),
                             "query_ms": round(float(np.median(times)), 1)})
                print(rows[-1], file=sys.stderr, flush=True)
        lib.close()
    return rows


def frontier(table: bool, regions: bool) -> None:
    import tempfile

    sets = {"holidays": holidays(), "copies": copies()}
    emb = Embedder(provider="cpu")
    images = {k: load_images(list(v), 352) for k, v in sets.items()}
    work = Path(tempfile.mkdtemp(prefix="pf-frontier-"))
    out = {"benchmark": "evaluate_settings --frontier", "cpu_cores": os.cpu_count(),
           "note": "shared 2-core machine: photos/s and ms are noisy; compare within this run",
           "photos": {k: len(v) for k, v in sets.items()}}
    if table:
        out["rows"] = _frontier_rows(emb, sets, images, work)
    if regions:
        out["find_this"] = _region_rows(emb, work)
    emit(out)


def main() -> None:
    if "--only" in sys.argv:
        ONLY.append(sys.argv[sys.argv.index("--only") + 1])
    if "--frontier" in sys.argv or "--regions" in sys.argv:
        return frontier("--frontier" in sys.argv, "--regions" in sys.argv)
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
