"""Peak RSS of the indexer while indexing N distinct small JPEGs, sampled as it goes, to show
whether memory stays flat.

    python benchmarks/indexer_memory.py [--n 100000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import distinct_copies, emit, peak_rss_mb, rss_mb, small_jpegs  # noqa: E402

from photofinder.library import Library  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=10)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pf-mem-"))
    try:
        distinct_copies(small_jpegs(), tmp / "photos", args.n)
        lib = Library(tmp / "lib")
        lib.add_folder(tmp / "photos")
        lib.scan()
        samples = []
        every = max(1, args.n // args.samples)
        t0 = time.perf_counter()
        last = [0]

        def progress(p):
            if p.done - last[0] >= every or p.done == p.total:
                last[0] = p.done
                samples.append({"done": p.done, "rss_mb": rss_mb(), "rate": round(p.rate, 1)})

        prog = lib.index_pending(progress)
        elapsed = time.perf_counter() - t0
        lib.close()
        emit({"benchmark": "indexer_memory", "photos": args.n, "indexed": prog.done - prog.failed,
              "seconds": round(elapsed, 1), "photos_per_s": round(prog.done / elapsed, 1),
              "rss_samples": samples, "peak_rss_mb": peak_rss_mb(), "goal_mb": 1024})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
