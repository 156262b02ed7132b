"""Find-similar latency: in process (catalogued photo: stored vector + HNSW search; outside
photo: decode + embed + search) and the CLI's wall time (process start, model load, query).

    python benchmarks/query_latency.py [FOLDER]   (default: ../shared/testdata, else samples)
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


def main() -> None:
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
