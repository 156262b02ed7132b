"""Find-similar latency: in process (catalogued photo: stored vector + HNSW search; outside
photo: decode + embed + search) and the CLI's wall time (process start, model load, query).

    python benchmarks/query_latency.py [FOLDER]   (default: ../shared/testdata, else samples)
    python benchmarks/query_latency.py --large DIR [--photos N] [--rounds R] [--source SRC ...]

``--large``: the right-click's query (Library.similar, top 200 as the GUI asks, re-ranking
included) in a SYNTHETIC library of N photos (default 100,000; benchmarks/gui_synthetic.py
builds or reuses it in DIR): the first search after opening (a fresh process: the library
opened, the model and index loaded by that first search, as the CLI does; and after
``Library.warm()``, as the GUI does at start), then 20 searches of random catalogued photos:
median and max, wall and process CPU ms (all the process's threads). Each ``--source`` is a
photofinder source tree (a checkout's root, for a before/after): the rounds alternate between
them in fresh processes, so a busy machine loads each alike.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED, emit, small_jpegs  # noqa: E402

from photofinder.library import Library  # noqa: E402


def ms(fn, n: int) -> dict:
    fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return {"median_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2), "runs": n}


def _large_child(library: str, rounds: int) -> dict:
    """In a fresh process: the first search after opening, then ``rounds`` more."""
    import random

    wall0, cpu0 = time.perf_counter(), time.process_time()
    warm = "--warm" in sys.argv
    lib = Library(library)
    paths = [r.path for r in lib.listing() if r.status == "indexed"]
    rnd = random.Random(11)
    out = {}
    if warm:
        t, c = time.perf_counter(), time.process_time()
        lib.warm()
        out["warm_ms"] = {"wall": round((time.perf_counter() - t) * 1000, 1),
                          "cpu": round((time.process_time() - c) * 1000, 1)}
    t, c = time.perf_counter(), time.process_time()
    lib.similar(rnd.choice(paths), 200)
    out["first_ms"] = {"wall": round((time.perf_counter() - t) * 1000, 1),
                       "cpu": round((time.process_time() - c) * 1000, 1)}
    walls, cpus = [], []
    for _ in range(rounds):
        p = rnd.choice(paths)
        t, c = time.perf_counter(), time.process_time()
        got = lib.similar(p, 200)
        walls.append((time.perf_counter() - t) * 1000)
        cpus.append((time.process_time() - c) * 1000)
    out.update(walls=walls, cpus=cpus, results=len(got),
               open_to_end_ms=round((time.perf_counter() - wall0) * 1000, 1),
               process_cpu_ms=round((time.process_time() - cpu0) * 1000, 1))
    lib.close()
    return out


def large(args: list[str]) -> None:
    import json
    import os

    from _common import pop_option

    root = pop_option(args, "--large")
    n = int(pop_option(args, "--photos", 100_000))
    rounds = int(pop_option(args, "--rounds", 3))
    sources = []
    while "--source" in args:
        sources.append(pop_option(args, "--source"))
    sources = sources or [str(Path(__file__).resolve().parents[1])]
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from gui_synthetic import build

    library = build(n, root)["library"]
    runs: dict[str, dict[str, list]] = {s: {} for s in sources}
    for _ in range(rounds):
        for src in sources:
            for warm in (False, True):
                env = dict(os.environ, PYTHONPATH=src)
                cmd = [sys.executable, __file__, "--child", library, "20"] + \
                    (["--warm"] if warm else [])
                got = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True,
                                                text=True, cwd=src).stdout)
                r = runs[src]
                r.setdefault("first_after_warm" if warm else "first", []).append(got["first_ms"])
                if warm:
                    r.setdefault("warm", []).append(got["warm_ms"])
                r.setdefault("walls", []).extend(got["walls"])
                r.setdefault("cpus", []).extend(got["cpus"])
    out = {"benchmark": "query_latency --large", "library_photos": n,
           "library": "synthetic (gui_synthetic.py: 200x150 JPEG tiles, random unit vectors)",
           "top": 200, "cpu_cores": os.cpu_count(), "rounds": rounds,
           "note": "shared machine: compare the sources within this run", "sources": {}}
    for src, r in runs.items():
        med = lambda xs: round(statistics.median(xs), 1)  # noqa: E731
        out["sources"][src] = {
            "first_search_after_opening_ms": {
                "wall_median": med([x["wall"] for x in r["first"]]),
                "cpu_median": med([x["cpu"] for x in r["first"]]),
                "wall_max": max(x["wall"] for x in r["first"])},
            "first_search_after_warm_ms": {
                "wall_median": med([x["wall"] for x in r["first_after_warm"]]),
                "cpu_median": med([x["cpu"] for x in r["first_after_warm"]]),
                "wall_max": max(x["wall"] for x in r["first_after_warm"])},
            "warm_ms": {"wall_median": med([x["wall"] for x in r["warm"]]),
                        "cpu_median": med([x["cpu"] for x in r["warm"]])},
            "similar_top200_ms": {"wall_median": med(r["walls"]), "wall_max": round(max(r["walls"]), 1),
                                  "cpu_median": med(r["cpus"]), "cpu_max": round(max(r["cpus"]), 1),
                                  "searches": len(r["walls"])}}
    emit(out)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        import json

        print(json.dumps(_large_child(sys.argv[2], int(sys.argv[3]))))
        return
    if "--large" in sys.argv:
        return large(sys.argv[1:])
    tmp = Path(tempfile.mkdtemp(prefix="pf-query-"))
    try:
        if len(sys.argv) > 1:
            folder = Path(sys.argv[1])
        elif SHARED.is_dir():
            folder = SHARED
        else:
            folder = tmp / "photos"
            folder.mkdir()
            for i, data in enumerate(small_jpegs()):
                (folder / f"p{i}.jpg").write_bytes(data)
        lib = Library(tmp / "lib")
        lib.add_folder(folder)
        lib.update()
        indexed = lib.catalog.photos.counts()["indexed"]
        photos = [r.path for r in lib.listing() if r.status == "indexed"][:20]
        outside = tmp / "outside.jpg"
        shutil.copy(photos[0], outside)
        it = iter(photos * 100)
        catalogued = ms(lambda: lib.similar(next(it), top=20), 60)
        external = ms(lambda: lib.similar(outside, top=20), 20)
        lib.close()
        cli = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "photofinder", "--library", str(tmp / "lib"),
                            "similar", photos[1], "--json"], check=True, capture_output=True)
            cli.append((time.perf_counter() - t) * 1000)
        emit({"benchmark": "query_latency", "library_photos": indexed, "top": 20,
              "catalogued_photo": catalogued, "outside_photo_decode_embed_search": external,
              "cli_similar_wall_ms": {"median_ms": round(statistics.median(cli), 1), "runs": 5}})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
