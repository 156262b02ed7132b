"""Before/after of the learned projection (retrieval/learn.py) on photos it was NOT trained on.

A library is indexed with the TRAIN folder only (e.g. holidays-dev groups 1000-1049); each
variant copies it, learns (or not) from those photos alone, and then ``evaluate`` adds the
held-out folders (e.g. groups 1050-1099, and a folder of edited copies from ../shared/testdata)
and measures Find similar there. "+marks" variants also store the user's "similar" marks a
user would give on the TRAIN groups (the first photo of each group marks its group-mates).

    python benchmarks/learn_eval.py TRAIN_DIR HELDOUT_DIR [HELDOUT_DIR...] [--work DIR]

Prints JSON: per variant, per held-out folder, mAP / P@1 / P@5 / recall@10.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

from photofinder.library import Library


def simulate_marks(lib: Library, train: str) -> int:
    n = 0
    for g in sorted(os.listdir(train)):
        d = os.path.join(train, g)
        if not os.path.isdir(d):
            continue
        files = sorted(os.path.join(d, f) for f in os.listdir(d))
        for other in files[1:]:
            lib.mark_result(files[0], other, "similar")
            n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("train")
    ap.add_argument("heldout", nargs="+")
    ap.add_argument("--work", default=None)
    ap.add_argument("--variants", default="plain,closed,torch,closed+marks,torch+marks")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="learn-eval-")
    base = os.path.join(work, "base")
    if not os.path.exists(base):
        with Library(base) as lib:
            lib.add_folder(a.train)
            lib.update()
    out = {"train": os.path.abspath(a.train), "variants": {}}
    for variant in a.variants.split(","):
        path = os.path.join(work, variant)
        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(base, path)
        row = {}
        with Library(path) as lib:
            if "marks" in variant:
                row["marks"] = simulate_marks(lib, a.train)
            if variant != "plain":
                t = time.perf_counter()
                row["trained"] = lib.train_projection(use_torch="torch" in variant)
                row["train_seconds"] = round(time.perf_counter() - t, 1)
            row["projection"] = lib.projection_status().get("version")
            for h in a.heldout:
                r = lib.evaluate(h).as_dict()
                row[os.path.basename(os.path.normpath(h))] = {
                    "map": r["map"], "p@1": r["precision_at"]["1"],
                    "p@5": r["precision_at"]["5"], "recall@10": r["recall_at_10"],
                    "queries": r["queries"], "library_photos": r["library_photos"]}
        out["variants"][variant] = row
        print(variant, json.dumps(row), file=sys.stderr, flush=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
