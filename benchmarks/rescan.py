"""Rescan of an unchanged library: N small generated files, catalogued, then scanned again.

    python benchmarks/rescan.py [--n 100000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, emit, peak_rss_mb  # noqa: E402

from photofinder.store.catalog import Catalog  # noqa: E402
from photofinder.work import scanner  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pf-rescan-"))
    try:
        root = tmp / "photos"
        blob = b"\xff\xd8\xff\xe0" + b"\0" * 60
        for d in range(args.n // 1000 + 1):
            sub = root / f"{d:04d}"
            sub.mkdir(parents=True)
            for i in range(min(1000, args.n - d * 1000)):
                (sub / f"IMG_{i:04d}.jpg").write_bytes(blob)
        cat = Catalog(tmp / "catalog.sqlite")
        folder = cat.folders.add(str(root))
        with Timer() as first:
            r1 = scanner.scan(cat, [folder])
        times = []
        for _ in range(3):
            with Timer() as t:
                r2 = scanner.scan(cat, cat.folders.all())
            times.append(t.s)
            assert r2.unchanged == args.n and r2.new == r2.changed == r2.deleted == 0
        emit({"benchmark": "rescan_unchanged", "files": args.n, "first_scan_s": round(first.s, 2),
              "first_scan_new": r1.new, "rescan_s": sorted(round(x, 2) for x in times),
              "rescan_median_s": round(sorted(times)[1], 2), "goal_s": 10,
              "peak_rss_mb": peak_rss_mb()})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
