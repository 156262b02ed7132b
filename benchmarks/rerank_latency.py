"""What the spatial re-ranking adds to a search (retrieval/rerank.py), at any library size: the
query's local features, then the TOP results' (decoded afresh from their files, as on a
photo's first search; or from the duplicates check's cached blobs; or held in memory, as on
a search again) and the fit of each pair. The graph's own search at 100k photos is
benchmarks/hnsw_million.py's; the two add up to the right-click's time.

    python benchmarks/rerank_latency.py [--rounds N]

Photos: 12-megapixel camera JPEGs (the shared phone photos, else a generated stand-in) and
the 400-px holidays-dev photos when present. Median ms over ``--rounds`` (default 10).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import camera_jpegs, distinct_copies, emit, median_ms, pop_option  # noqa: E402

from photofinder.dedup import features as F  # noqa: E402
from photofinder.retrieval import rerank as R  # noqa: E402

HOLIDAYS = Path(__file__).resolve().parents[1].parent / "shared" / "evaldata" / "holidays-dev"


def measure(paths: list[str], rounds: int) -> dict:
    query, cands = paths[0], paths[1:R.TOP + 1]
    hits = [(i, 0.8 - 0.01 * i) for i in range(len(cands))]
    workers = max(1, min(4, os.cpu_count() or 1))

    def fresh(labels):
        return F.compute_many([(l, cands[l]) for l in labels], workers=workers)

    blobs = {i: F.compute(p).to_blob() for i, p in enumerate(cands)}

    def cached(labels):
        return {l: F.Features.from_blob(blobs[l]) for l in labels}

    held = R.FeatureCache(fresh)
    held(list(range(len(cands))))
    qf = F.compute(query)
    return {
        "candidates": len(cands),
        "query_features_ms": median_ms(lambda: F.compute(query), rounds, warm=False),
        "rerank_cold_ms": median_ms(lambda: R.rerank(F.compute(query), hits, fresh), rounds, warm=False),
        "rerank_from_dedup_cache_ms": median_ms(lambda: R.rerank(F.compute(query), hits, cached),
                                          rounds),
        "rerank_held_in_memory_ms": median_ms(lambda: R.rerank(F.compute(query), hits, held), rounds, warm=False),
        "fits_only_ms": median_ms(lambda: R.rerank(qf, hits, held), rounds, warm=False),
        "decode_workers": workers,
    }


def main() -> None:
    args = sys.argv[1:]
    rounds = int(pop_option(args, "--rounds", "10"))
    out = {"benchmark": "rerank_latency", "top": R.TOP, "rounds": rounds,
           "cpu_cores": os.cpu_count(),
           "note": "shared 2-core machine: ms are noisy; compare within this run"}
    with tempfile.TemporaryDirectory() as tmp:
        paths = distinct_copies(camera_jpegs(), Path(tmp) / "camera", R.TOP + 1)
        out["camera_12mp"] = measure([str(p) for p in paths], rounds)
    if HOLIDAYS.is_dir():
        out["holidays_400px"] = measure(sorted(str(p) for p in HOLIDAYS.glob("*/*.jpg"))[:R.TOP + 1],
                                        rounds)
    emit(out)


if __name__ == "__main__":
    main()
