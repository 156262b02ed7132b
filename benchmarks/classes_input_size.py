"""The ImageNet head's top-1 and top-5 on hand-labelled holidays-dev photos
(benchmarks/data/holidays-dev-classes.json) at the embedding's input size (the longer side
256 px, the size indexing already decodes and embeds) against larger ones, and the cost of
each size. The head was trained at 260x260 centre crops; a larger input would need a second
pass over the trunk for every photo indexed, so it has to pay for that.

    python benchmarks/classes_input_size.py [--sizes 256,320,384,448] [--evaldata DIR]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, emit, pop_option  # noqa: E402

from photofinder.pixels import imaging  # noqa: E402
from photofinder.pixels.embedding import preprocess  # noqa: E402
from photofinder.pixels.embedding.model import Embedder  # noqa: E402

LABELS = ROOT / "benchmarks" / "data" / "holidays-dev-classes.json"


def main() -> None:
    args = sys.argv[1:]
    sizes = [int(s) for s in pop_option(args, "--sizes", "256,320,384,448").split(",")]
    root = Path(pop_option(args, "--evaldata", str(ROOT.parent / "shared" / "evaldata" /
                                                   "holidays-dev")))
    labels = json.loads(LABELS.read_text())["photos"]
    emb = Embedder(provider="cpu")
    images = {rel: imaging.load(root / rel, need=max(sizes))[0].image for rel in labels}
    out = {"benchmark": "classes_input_size", "photos": len(labels), "model": emb.classes_id,
           "contract_long_side": preprocess.LONG_SIDE, "sizes": {}}
    for side in sizes:
        arrays = [preprocess.prepare(images[rel], side) for rel in labels]
        emb.embed_and_classify(arrays[:2])
        t = time.perf_counter()
        _, probs = emb.embed_and_classify(arrays)
        ms = (time.perf_counter() - t) * 1000 / len(arrays)
        top = np.argsort(-probs, axis=1)[:, :5]
        ok1 = [int(top[i, 0]) in want for i, want in enumerate(labels.values())]
        ok5 = [bool(set(top[i].tolist()) & set(want)) for i, want in enumerate(labels.values())]
        out["sizes"][str(side)] = {"top1": round(float(np.mean(ok1)), 3),
                                   "top5": round(float(np.mean(ok5)), 3),
                                   "ms_per_photo": round(ms, 1)}
    emit(out)


if __name__ == "__main__":
    main()
