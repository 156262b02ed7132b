"""Peak memory of decoding one big picture, as indexing decodes it (``imaging.load`` at the
model's size): grey, 16-bit grey, palette, RGB and RGBA PNGs, a CMYK and an RGB JPEG, at 64
megapixels and at the 250-megapixel limit. Each file is decoded in a fresh process; the
figure is its peak RSS (VmHWM) above its RSS once imports are done (idle).

    python benchmarks/decode_memory.py [--quick] [--sizes 64,250] [--kinds I;16,P,...]
                                       [--concurrent 8]

Prints JSON: per file, kind, megapixels, file size, peak MB above idle, seconds, and what
came back (ok or the error); then ``at_once``: 8 of the largest 16-bit PNGs decoded by a pool
of 8 workers, whose peak the memory budget bounds. Goals (issue 22): grey, 16-bit grey, palette, CMYK and JPEG
within 1024 MB above idle; RGB and RGBA PNG within 1536 MB or refused naming the budget.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(Path(__file__).resolve().parent)]

from _common import emit  # noqa: E402

SIZES = {64: (10000, 6400), 250: (20000, 12500)}
KINDS = ["L", "I;16", "P", "RGB", "RGBA", "CMYK-JPEG", "JPEG"]
GOAL_MB = {"RGB": 1536, "RGBA": 1536}

CHILD = r"""
import json, sys, time
from photofinder.pixels import imaging
from photofinder.pixels.embedding import preprocess

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
idle = status("VmRSS")
t = time.perf_counter()
try:
    decoded, _, _ = imaging.load(sys.argv[1], need=preprocess.LONG_SIDE)
    out = "ok %dx%d -> %dx%d" % (decoded.width, decoded.height, *decoded.image.size)
except imaging.ImageError as e:
    out = "refused: %s" % e
print(json.dumps({"idle_mb": round(idle, 1), "peak_mb": round(status("VmHWM"), 1),
                  "seconds": round(time.perf_counter() - t, 2), "result": out}))
"""


POOL_CHILD = r"""
import json, sys, time
from photofinder.pixels import imaging
from photofinder.pixels.embedding import preprocess
from photofinder.work.decodepool import DecodePool

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
idle = status("VmRSS")
paths = sys.argv[1:]
pool = DecodePool(len(paths), timeout=600)
t = time.perf_counter()
jobs = [pool.submit(imaging.load, p, preprocess.LONG_SIDE) for p in paths]
out = []
for j in jobs:
    try:
        out.append("ok %dx%d" % pool.result(j)[0].image.size)
    except Exception as e:
        out.append("%s: %s" % (type(e).__name__, e))
pool.close()
print(json.dumps({"idle_mb": round(idle, 1), "peak_mb": round(status("VmHWM"), 1),
                  "seconds": round(time.perf_counter() - t, 2), "results": out}))
"""


def concurrent(folder: Path, kind: str, mp: int, n: int) -> dict:
    """``n`` such files decoded at once by a decode pool of ``n`` workers (a folder of film
    scans, one worker per core): the budget lets only what fits run together."""
    path = make(folder, kind, mp)
    paths = [path] + [folder / f"copy{i}-{path.name}" for i in range(1, n)]
    for p in paths[1:]:
        shutil.copy(path, p)
    p = subprocess.run([sys.executable, "-c", POOL_CHILD, *map(str, paths)], capture_output=True,
                       text=True, timeout=1800, env={**os.environ, "PYTHONPATH": str(ROOT)})
    for q in paths:
        q.unlink()
    if p.returncode:
        return {"result": f"the child failed (rc {p.returncode}): {p.stderr.strip()[-300:]}"}
    r = json.loads(p.stdout.strip().splitlines()[-1])
    return {"kind": kind, "megapixels": mp, "files_at_once": n, "workers": n,
            "peak_above_idle_mb": round(r["peak_mb"] - r["idle_mb"], 1),
            "seconds": r["seconds"], "all_ok": all(x.startswith("ok") for x in r["results"]),
            "budget_mb": 1536}


def make(folder: Path, kind: str, mp: int) -> Path:
    import imagegen

    w, h = SIZES[mp]
    if kind.endswith("JPEG"):
        return jpeg(folder, kind, w, h)
    path = folder / f"{kind.replace(';', '')}-{mp}mp.png"
    imagegen.big_png(path, w, h, kind)
    return path


def jpeg(folder: Path, kind: str, w: int, h: int) -> Path:
    """A JPEG of that size, written by Pillow in bands (pasted into one image: a JPEG's
    encoder wants the whole picture; at 250 MP that is made once, in this parent)."""
    from PIL import Image

    mode = "CMYK" if kind.startswith("CMYK") else "RGB"
    path = folder / f"{kind}-{w * h // 1_000_000}mp.jpg"
    img = Image.linear_gradient("L").resize((w, h)).convert(mode)
    img.save(path, quality=80)
    return path


def measure(path: Path) -> dict:
    p = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                       timeout=900, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if p.returncode:
        return {"result": f"the child failed (rc {p.returncode}): {p.stderr.strip()[-300:]}"}
    r = json.loads(p.stdout.strip().splitlines()[-1])
    r["peak_above_idle_mb"] = round(r["peak_mb"] - r["idle_mb"], 1)
    return r


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="64 megapixels only")
    ap.add_argument("--sizes", default=None, help="megapixels: 64,250")
    ap.add_argument("--kinds", default=None, help=",".join(KINDS))
    ap.add_argument("--concurrent", type=int, default=8,
                    help="also decode this many 16-bit grey PNGs at once (0: not)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else \
        ([64] if args.quick else [64, 250])
    kinds = args.kinds.split(",") if args.kinds else KINDS
    tmp = Path(tempfile.mkdtemp(prefix="pf-decode-mem-"))
    rows = []
    try:
        for mp in sizes:
            for kind in kinds:
                path = make(tmp, kind, mp)
                r = measure(path)
                goal = GOAL_MB.get(kind, 1024)
                rows.append({"kind": kind, "megapixels": round(SIZES[mp][0] * SIZES[mp][1] / 1e6),
                             "file_mb": round(path.stat().st_size / 2**20, 2), **r,
                             "goal_mb": goal,
                             "within_goal": r.get("peak_above_idle_mb", 1e9) <= goal
                             or r.get("result", "").startswith("refused")})
                path.unlink()
        pool = [concurrent(tmp, "I;16", max(sizes), args.concurrent)] if args.concurrent else []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    emit({"benchmark": "decode_memory", "files": rows, "at_once": pool,
          "note": "peak RSS (VmHWM) of a fresh process decoding one file as indexing does, "
                  "above its RSS after imports; 2-core machine shared with other jobs"})


if __name__ == "__main__":
    main()
