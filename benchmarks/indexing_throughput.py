"""Indexing throughput, photos/s, CPU provider: end to end, and beside it in the same run the
decode-only and embed-only rates, so the pipeline's efficiency against its slower stage is a
ratio. Also threads vs processes for decoding.

    python benchmarks/indexing_throughput.py [--n 1000] [--repeat 3] [--kind camera|small|both]
    python benchmarks/indexing_throughput.py --outputs [--n 200] [--repeat 3] [--kind ...]

``--outputs``: before and after the model gained its class output (issue 25). "Before" is the
embedding-only graph exported by the same code from the same weights as the shipped model
(export._export with the embedding output alone: the graph whose hash is the embedding's id),
run as indexing ran it then (``embed``); "after" is the shipped two-output model, run as
indexing runs it now (``embed_and_classify``, the tags stored too). Both in the same run,
interleaved, so the machine's load hits both alike.
"""

from __future__ import annotations

import argparse
import os
from collections import deque
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, camera_jpegs, distinct_copies, emit, median, peak_rss_mb, small_jpegs  # noqa: E402

from photofinder.work.decodepool import DecodePool  # noqa: E402
from photofinder.pixels.embedding.model import Embedder  # noqa: E402
from photofinder.work.indexer import prepare  # noqa: E402
from photofinder.library import Library  # noqa: E402


def decode_rate(paths, workers: int, window: int = 48) -> float:
    """Decode only, through the indexer's pool, keeping ``window`` files in flight (as the
    pipeline does) and dropping each result."""
    pool = DecodePool(workers)
    with Timer() as t:
        jobs = deque()
        for i, p in enumerate(paths):
            jobs.append(pool.submit(prepare, i, str(p)))
            if len(jobs) >= window:
                pool.result(jobs.popleft())
        while jobs:
            pool.result(jobs.popleft())
    pool.close()
    return len(paths) / t.s


def decode_rate_processes(paths, workers: int) -> float:
    with ProcessPoolExecutor(workers) as ex:
        list(ex.map(prepare, range(4), [str(p) for p in paths[:4]]))  # warm up the workers
        with Timer() as t:
            list(ex.map(prepare, range(len(paths)), [str(p) for p in paths], chunksize=4))
    return len(paths) / t.s


def embed_rate(embedder, paths, batch=16, classify: bool = False) -> float:
    arrays = [prepare(i, str(p)).array for i, p in enumerate(paths[:64])]
    arrays = (arrays * (len(paths) // len(arrays) + 1))[: len(paths)]
    run = embedder.embed_and_classify if classify else embedder.embed
    run(arrays[:batch])
    with Timer() as t:
        for i in range(0, len(arrays), batch):
            run(arrays[i:i + batch])
    return len(arrays) / t.s


def end_to_end(folder: Path, tmp: Path, k: int, embedder=None) -> float:
    lib_dir = tmp / f"lib{k}"
    lib = Library(lib_dir, embedder=embedder)
    lib.add_folder(folder)
    lib.scan()
    with Timer() as t:
        prog = lib.index_pending()
    lib.close()
    shutil.rmtree(lib_dir)
    assert prog.failed == 0
    return prog.done / t.s


def run(kind: str, n: int, repeat: int, tmp: Path) -> dict:
    sources = camera_jpegs() if kind == "camera" else small_jpegs()
    folder = tmp / kind
    paths = distinct_copies(sources, folder, n)
    embedder = Embedder(provider="cpu")
    workers = max(2, os.cpu_count() or 2)
    e2e, dec, emb = [], [], []
    for k in range(repeat):  # interleaved, so drift in machine load hits all three alike
        dec.append(decode_rate(paths, workers))
        emb.append(embed_rate(embedder, paths))
        e2e.append(end_to_end(folder, tmp, k))
    proc = decode_rate_processes(paths[: min(n, 200)], workers)
    thr = decode_rate(paths[: min(n, 200)], workers)
    slower = min(median(dec), median(emb))
    return {
        "photos": n,
        "source": f"{len(sources)} distinct {kind} JPEG(s), copied with a unique comment segment",
        "megapixels": None if kind != "camera" else 12.2,
        "end_to_end_photos_per_s": {"median": median(e2e), "runs": [round(x, 2) for x in e2e]},
        "decode_only_photos_per_s": {"median": median(dec), "runs": [round(x, 2) for x in dec]},
        "embed_only_photos_per_s": {"median": median(emb), "runs": [round(x, 2) for x in emb]},
        "pipeline_efficiency_vs_slower_stage": round(median(e2e) / slower, 3),
        # Both stages use every core when measured alone, so on a shared CPU the best a
        # pipeline can do is the serial bound 1 / (1/decode + 1/embed).
        "serial_bound_photos_per_s": round(1 / (1 / median(dec) + 1 / median(emb)), 2),
        "pipeline_efficiency_vs_serial_bound": round(
            median(e2e) * (1 / median(dec) + 1 / median(emb)), 3),
        "decode_threads_vs_processes_photos_per_s": {"threads": round(thr, 2),
                                                     "processes": round(proc, 2),
                                                     "files": min(n, 200)},
    }


def embedding_only_model(folder: Path) -> Path:
    """The model as it was before its class output: the embedding-only graph, exported by the
    shipped model's own code from the same weights, with the shipped manifest less the class
    output and the head."""
    import json

    import torch

    from photofinder.pixels.embedding import export as X
    from photofinder.pixels.embedding import preprocess
    from photofinder.pixels.embedding.model import MANIFEST, file_sha256, read_manifest

    folder.mkdir(parents=True, exist_ok=True)
    model = X.build_torch_model()
    X._export(torch, model, torch.zeros(2, 3, preprocess.LONG_SIDE, 192),
              str(folder / "model.onnx"), ["embedding"])
    manifest = {k: v for k, v in read_manifest().items()
                if k not in ("classes", "head", "extra_files")}
    manifest["file"] = "model.onnx"
    manifest["sha256"] = file_sha256(folder / "model.onnx")
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return folder


def run_outputs(kind: str, n: int, repeat: int, tmp: Path) -> dict:
    sources = camera_jpegs() if kind == "camera" else small_jpegs()
    folder = tmp / kind
    paths = distinct_copies(sources, folder, n)
    before = Embedder(embedding_only_model(tmp / "embedding-only"), provider="cpu")
    after = Embedder(provider="cpu")
    assert not before.has_classes and after.has_classes
    arrays = [prepare(i, str(p)).array for i, p in enumerate(paths[:16])]
    agree = float(np.min(np.sum(before.embed(arrays) * after.embed(arrays), axis=1)))
    # the model alone, batch by batch: each batch through both models back to back (order
    # alternating), so the others' load on a shared machine hits both alike
    batches = [[prepare(i, str(p)).array for i, p in enumerate(paths[j:j + 16])]
               for j in range(0, min(len(paths), 64), 16)]
    paired = {"before": 0.0, "after": 0.0}
    cpu = {"before": 0.0, "after": 0.0}
    runs = {"before": before.embed, "after": after.embed_and_classify}
    for r in range(repeat * 4):
        for b in batches:
            for name in (("before", "after") if r % 2 == 0 else ("after", "before")):
                t, c = time.perf_counter(), time.process_time()
                runs[name](b)
                paired[name] += time.perf_counter() - t
                cpu[name] += time.process_time() - c
    done = repeat * 4 * sum(len(b) for b in batches)
    rates = {"before": {"embed": [], "e2e": []}, "after": {"embed": [], "e2e": []}}
    for k in range(repeat):  # interleaved, so drift in machine load hits both alike
        for name, emb in (("before", before), ("after", after)):
            rates[name]["embed"].append(embed_rate(emb, paths, classify=name == "after"))
            rates[name]["e2e"].append(end_to_end(folder, tmp, f"{name}{k}", emb))
    out = {"photos": n, "source": f"{len(sources)} distinct {kind} JPEG(s), copied with a "
           "unique comment segment", "megapixels": None if kind != "camera" else 12.2,
           "before_model_id": before.model_id, "after_model_id": after.model_id,
           "embedding_min_cosine_before_vs_after": round(agree, 6)}
    out["paired_batches"] = {
        "photos_each": done, "batch": 16,
        "before_photos_per_s": round(done / paired["before"], 2),
        "after_photos_per_s": round(done / paired["after"], 2),
        "after_over_before_time": round(paired["after"] / paired["before"], 3),
        "after_over_before_cpu_time": round(cpu["after"] / cpu["before"], 3)}
    for name in ("before", "after"):
        out[name] = {
            "embed_only_photos_per_s": {"median": median(rates[name]["embed"]),
                                        "runs": [round(x, 2) for x in rates[name]["embed"]]},
            "end_to_end_photos_per_s": {"median": median(rates[name]["e2e"]),
                                        "runs": [round(x, 2) for x in rates[name]["e2e"]]}}
    for what in ("embed_only_photos_per_s", "end_to_end_photos_per_s"):
        out[f"after_over_before_{what}"] = round(
            out["after"][what]["median"] / out["before"][what]["median"], 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--kind", choices=["camera", "small", "both"], default="both")
    ap.add_argument("--outputs", action="store_true",
                    help="the embedding-only model before the class output against the "
                         "shipped two-output model")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pf-bench-"))
    try:
        out = {"benchmark": "indexing_throughput" + (" --outputs" if args.outputs else ""),
               "cpu_cores": os.cpu_count(), "provider": "CPU"}
        for kind in (["camera", "small"] if args.kind == "both" else [args.kind]):
            out[kind] = (run_outputs if args.outputs else run)(kind, args.n, args.repeat, tmp)
            shutil.rmtree(tmp / kind)
        out["peak_rss_mb"] = peak_rss_mb()
        emit(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
