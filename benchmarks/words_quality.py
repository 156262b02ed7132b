"""Search by words on holidays-dev, with the hand labels of
benchmarks/data/holidays-dev-words.json: mAP and mean P@10 of each part of the method, on the
tuned words and on the held-out words apart (the held-out words were drawn before any tuning
and decided nothing), and the per-word table of the shipped method.

    python benchmarks/words_quality.py [--evaldata DIR] [--tune] [--per-word]
    python benchmarks/words_quality.py --latency N [--library DIR]

The photos go through the real model (embedding + class output, as indexing stores them:
float16 vectors, the top 10 classes) and the real ``WordSearcher`` with every photo a
candidate, so the figures are those of ``photofinder evaluate DIR --words``. ``--tune`` runs
the coordinate search over the relation weights on the tuned words (classes only) that chose
``words.Weights``.

``--latency N``: ``Library.search_words`` at N photos, on the SYNTHETIC library of
benchmarks/gui_synthetic.py (random unit vectors, so the tags mean nothing; the sizes and the
code path are real): the tags stored by ``tag_photos`` (as indexing or its backfill stores
them), then the first search after opening the library and the median of later ones
(the searcher with its prototypes and pseudo-relevance feedback through the HNSW index),
with ``top`` 200 as the GUI asks.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, emit, pop_option  # noqa: E402

from photofinder.pixels import imaging  # noqa: E402
from photofinder.pixels.embedding import preprocess  # noqa: E402
from photofinder.pixels.embedding.model import Embedder  # noqa: E402
from photofinder.retrieval import words  # noqa: E402
from photofinder.retrieval.metrics import average_precision, precision_at  # noqa: E402

LABELS = ROOT / "benchmarks" / "data" / "holidays-dev-words.json"


def model_outputs(root: Path, paths: list[str], side: int | None = None):
    emb = Embedder(provider="cpu")
    arrays = [preprocess.prepare(imaging.load(root / p, need=side or preprocess.LONG_SIDE)[0]
                                 .image, side) for p in paths]
    vecs, probs = [], []
    for i in range(0, len(arrays), 8):
        v, p = emb.embed_and_classify(arrays[i:i + 8])
        vecs.append(v)
        probs.append(p)
    # what the catalogue keeps: float16 vectors
    return np.concatenate(vecs).astype(np.float16).astype(np.float32), np.concatenate(probs), \
        emb.head()


def searcher(vectors, probs, head, options=words.WordOptions(), weights=words.Weights(),
             vocabulary=None):
    classes, p = words.top_classes(probs)
    labels = np.arange(len(vectors))
    tags = words.Tags(labels, classes, p)

    def neighbours(v, k):
        sims = vectors @ v
        best = np.argsort(-sims)[:k]
        return [(int(i), float(sims[i])) for i in best]

    return words.WordSearcher(vocabulary or words.Vocabulary.shipped(), tags,
                              lambda ls: vectors[np.asarray(ls, np.int64)], neighbours, head,
                              options, weights)


def measure(search, paths, labels: dict[str, list[str]], which: list[str]) -> dict:
    per = {}
    for w in which:
        relevant = set(labels[w])
        try:
            ranked = search.rank(w, len(paths))
        except words.WordError:  # a word this method cannot search finds nothing
            ranked = []
        hits = [paths[lab] in relevant for lab, _ in ranked]
        per[w] = {"ap": round(average_precision(hits, len(relevant)), 3),
                  "p_at_10": round(precision_at(hits, 10), 3), "photos": len(relevant)}
    return {"map": round(float(np.mean([v["ap"] for v in per.values()])), 3),
            "p_at_10": round(float(np.mean([v["p_at_10"] for v in per.values()])), 3),
            "words": per}


def tune(vectors, probs, head, paths, labels, tuned) -> dict:
    """Coordinate search over the relation weights, classes only, on the tuned words."""
    opts = words.WordOptions(prototype=0.0, feedback=0)
    best_w = words.Weights()

    def score(wts):
        m = measure(searcher(vectors, probs, head, opts, wts), paths, labels, tuned)
        return m["map"] + 0.5 * m["p_at_10"]

    best = score(best_w)
    for _ in range(2):
        for rel in ["hyper", "sib", "part", "haspart", "member", "hasmember", "wgloss",
                    "cgloss", "curated"]:
            for v in (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0):
                trial = replace(best_w, relation={**best_w.relation, rel: v})
                s = score(trial)
                if s > best + 1e-4:
                    best, best_w = s, trial
        for name, values in (("step", (0.5, 0.7, 1.0)), ("sense", (0.3, 0.5, 0.7, 1.0)),
                             ("gloss_idf", (3.0, 4.5, 6.9))):
            for v in values:
                trial = replace(best_w, **{name: v})
                s = score(trial)
                if s > best + 1e-4:
                    best, best_w = s, trial
    return {"relation": best_w.relation, "step": best_w.step, "sense": best_w.sense,
            "gloss_idf": best_w.gloss_idf, "objective": round(best, 4)}


def latency(n: int, root: str) -> dict:
    import time

    from gui_synthetic import build

    from photofinder.library import Library

    built = build(n, root)
    lib = Library(built["library"])
    t = time.perf_counter()
    tagged = lib.tag_photos()
    tag_s = time.perf_counter() - t
    lib.close()
    queries = ["dog", "beach", "car", "sunset", "mountain", "boat", "food", "church", "tree",
               "guitar"]
    lib = Library(built["library"])
    t, c = time.perf_counter(), time.process_time()
    first = lib.search_words(queries[0], 200)
    first_ms = ((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000)
    times, cpu = {}, []
    for q in queries * 3:
        t, c = time.perf_counter(), time.process_time()
        lib.search_words(q, 200)
        times.setdefault(q, []).append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    # words with "similar to this photo" (the GUI's narrowing of a Find similar)
    photo = first[0].path
    lib.similar(photo, 200)  # its own first-search costs apart
    narrowed, narrowed_cpu = [], []
    for q in queries[:5]:
        t, c = time.perf_counter(), time.process_time()
        lib.similar_with_words(photo, q, 200)
        narrowed.append((time.perf_counter() - t) * 1000)
        narrowed_cpu.append((time.process_time() - c) * 1000)
    status = lib.status()
    lib.close()
    every = [x for v in times.values() for x in v]
    return {"benchmark": "words_quality --latency", "library_photos": n,
            "library": "synthetic (benchmarks/gui_synthetic.py: random unit vectors)",
            "build_s": built["built_seconds"], "tagged_now": tagged,
            "tag_photos_s": round(tag_s, 2), "photos_tagged": status.words,
            "note": "wall ms on a shared, loaded 2-core machine; cpu ms is this process's CPU "
                    "time (all its threads), the figure less hit by the others' load",
            "first_search_after_open_ms": {"wall": round(first_ms[0], 1),
                                           "cpu": round(first_ms[1], 1)},
            "first_results": len(first),
            "search_ms_median": {"wall": round(float(np.median(every)), 1),
                                 "cpu": round(float(np.median(cpu)), 1)},
            "search_ms_max": {"wall": round(float(np.max(every)), 1),
                              "cpu": round(float(np.max(cpu)), 1)},
            "similar_with_words_ms_median": {"wall": round(float(np.median(narrowed)), 1),
                                             "cpu": round(float(np.median(narrowed_cpu)), 1)},
            "per_word_median_ms": {q: round(float(np.median(v)), 1) for q, v in times.items()},
            "top": 200}


def main() -> None:
    args = sys.argv[1:]
    if "--latency" in args:
        import tempfile

        n = int(pop_option(args, "--latency"))
        root = pop_option(args, "--library") or tempfile.mkdtemp(prefix="pf-words-latency-")
        return emit(latency(n, root))
    do_tune = "--tune" in args
    per_word = "--per-word" in args
    args = [a for a in args if a not in ("--tune", "--per-word")]
    root = Path(pop_option(args, "--evaldata", str(ROOT.parent / "shared" / "evaldata" /
                                                   "holidays-dev")))
    spec = json.loads(LABELS.read_text())
    labels = spec["words"]
    held = [w for w in labels if w in set(spec["held_out"])]
    tuned = [w for w in labels if w not in set(spec["held_out"])]
    paths = sorted(str(p.relative_to(root)) for p in root.glob("*/*.jpg"))
    vectors, probs, head = model_outputs(root, paths)
    out = {"benchmark": "words_quality", "photos": len(paths), "words": len(labels),
           "tuned_words": len(tuned), "held_out_words": len(held),
           "chance_map": {"tuned": round(float(np.mean([len(labels[w]) / len(paths)
                                                        for w in tuned])), 3),
                          "held_out": round(float(np.mean([len(labels[w]) / len(paths)
                                                           for w in held])), 3)},
           "p_at_10_ceiling": {"tuned": round(float(np.mean([min(1, len(labels[w]) / 10)
                                                             for w in tuned])), 3),
                               "held_out": round(float(np.mean([min(1, len(labels[w]) / 10)
                                                                for w in held])), 3)}}
    if do_tune:
        out["tuned_weights"] = tune(vectors, probs, head, paths, labels, tuned)
    full = words.WordOptions()
    shipped = words.Vocabulary.shipped()
    bare = words.Vocabulary({"relations": shipped.relations, "classes": shipped.classes,
                             "words": shipped.words, "exceptions": shipped.exceptions})
    hyper_only = words.Weights(relation={r: 1.0 if r in ("syn", "hypo") else 0.0
                                         for r in shipped.relations})
    classes_only = replace(full, prototype=0.0, feedback=0)
    steps = [
        ("hypernyms only (the word's own classes and those below it)",
         dict(options=replace(classes_only, tau=1.0), weights=hyper_only, vocabulary=bare)),
        ("+ every WordNet relation (tuned weights)",
         dict(options=replace(classes_only, tau=1.0), vocabulary=bare)),
        ("+ the curated photo words", dict(options=replace(classes_only, tau=1.0))),
        ("+ flatter probabilities (p ** 0.5)", dict(options=classes_only)),
        ("+ prototypes from the head's weights", dict(options=replace(full, feedback=0))),
        ("+ pseudo-relevance feedback (shipped)", dict(options=full)),
        ("shipped without prototypes", dict(options=replace(full, prototype=0.0))),
    ]
    table = {}
    for name, kw in steps:
        s = searcher(vectors, probs, head, **kw)
        a, b = measure(s, paths, labels, tuned), measure(s, paths, labels, held)
        table[name] = {"tuned": {"map": a["map"], "p_at_10": a["p_at_10"]},
                       "held_out": {"map": b["map"], "p_at_10": b["p_at_10"]}}
    # photos indexed before the class output: their tags from the stored embedding
    approx = words.probs_from_embeddings(vectors, head)
    s = searcher(vectors, approx, head)
    a, b = measure(s, paths, labels, tuned), measure(s, paths, labels, held)
    table["shipped, tags from stored embeddings"] = {
        "tuned": {"map": a["map"], "p_at_10": a["p_at_10"]},
        "held_out": {"map": b["map"], "p_at_10": b["p_at_10"]}}
    agree = float(np.mean(approx.argmax(1) == probs.argmax(1)))
    out["tags_from_embeddings_top1_agreement"] = round(agree, 3)
    out["methods"] = table
    if per_word:
        s = searcher(vectors, probs, head)
        out["per_word"] = {"held_out": measure(s, paths, labels, held)["words"],
                           "tuned": measure(s, paths, labels, tuned)["words"]}
    emit(out)


if __name__ == "__main__":
    main()
