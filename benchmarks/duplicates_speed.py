"""``duplicates`` beside imagehash pHash's whole run, on the same files, in ONE run; prints JSON.

The files: the real-photo set of duplicates_quality.py (sources with combined edits, burst
frames, Holidays' other views), at their size (<= 1600 px), and with ``--camera`` also a
set at camera size (each source rendered at 4032x3024 with the same edits: 12-megapixel
JPEGs, where decoding dominates). For each set, in this order:
- 95% of the files are indexed as the app does it (``Library.update``): indexing, then the
  duplicates check of what was indexed, each timed;
- ``duplicates`` on that indexed library, as a user runs it, then again (nothing new);
- pHash's whole run on the same 95%: open, hash and group every file (Hamming <= 10,
  vectorised);
- the last 5% arrive and are indexed (their check timed); ``duplicates`` again;
- the same 95% in a second library indexed WITHOUT the check: ``duplicates`` there checks
  every candidate pair from scratch (``check_from_scratch``: the whole work, beside pHash).
Usage: python benchmarks/duplicates_speed.py [WORKDIR] [--max-scenes N] [--camera N]
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import pop_option  # noqa: E402
from duplicates_quality import make_set, phash_run  # noqa: E402


def run_set(work: Path, copy_of: dict, label: str) -> dict:
    from photofinder.library import Library

    files = sorted(copy_of)
    late = set(files[::20])  # 5% arrive later
    first = [p for p in files if p not in late]
    folder = Path(files[0]).parent
    hold = work / f"{label}-later"
    hold.mkdir(exist_ok=True)
    for p in late:
        shutil.move(p, hold / Path(p).name)
    out: dict = {"files_first_run": len(first), "arriving_later": len(late)}
    runs = {}
    for lib_dir in (work / f"{label}-lib", work / f"{label}-lib-nocheck"):
        shutil.rmtree(lib_dir, ignore_errors=True)  # a work folder used before
    with Library(work / f"{label}-lib") as lib:
        lib.add_folder(folder)
        runs["indexing"] = _update(lib)
        for name in ("duplicates_on_indexed_library", "again_nothing_new"):
            runs[name] = _duplicates(lib)
        _, ph = phash_run(first)  # the same files, from scratch
        for p in late:
            shutil.move(hold / Path(p).name, p)
        runs["indexing_5pct_new_photos"] = _update(lib)
        runs["duplicates_after_5pct_new_photos"] = _duplicates(lib)
        for p in late:
            shutil.move(p, hold / Path(p).name)
    with Library(work / f"{label}-lib-nocheck") as lib:
        lib.add_folder(folder)
        lib.update(duplicates=False)
        runs["check_from_scratch"] = _duplicates(lib)
    for p in late:
        shutil.move(hold / Path(p).name, p)
    out["runs"] = runs
    out["phash_whole_run_s"] = round(ph, 2)
    s = {k: v["s"] for k, v in runs.items() if "s" in v}
    out["ratio_duplicates_to_phash"] = round(s["duplicates_on_indexed_library"] / ph, 3)
    out["ratio_duplicates_after_new_photos_to_phash"] = round(
        s["duplicates_after_5pct_new_photos"] / ph, 3)
    out["ratio_check_from_scratch_to_phash"] = round(s["check_from_scratch"] / ph, 2)
    ix = runs["indexing"]
    out["check_share_of_indexing_and_check"] = round(ix["check_s"] / (ix["index_s"] + ix["check_s"]), 3)
    return out


def _update(lib) -> dict:
    """``Library.update``'s steps, each timed: scan, index, the duplicates check."""
    lib.scan()
    t = time.monotonic()
    done = lib.index_pending()
    index_s = time.monotonic() - t
    stats: dict = {}
    t = time.monotonic()
    lib.check_duplicates(stats=stats)
    return {"photos": done.done, "index_s": round(index_s, 2),
            "check_s": round(time.monotonic() - t, 2), "check_stats": stats}


def _duplicates(lib) -> dict:
    stats: dict = {}
    t = time.monotonic()
    lib.find_duplicates(stats=stats)
    return {"s": round(time.monotonic() - t, 2), "stats": stats}


def camera_set(folder: Path, n: int) -> dict:
    """Sources at 12 MP with the same edits (as JPEGs a camera writes)."""
    from PIL import Image

    from dedup_shots import QUALITY, combined_edits
    from duplicates_quality import real_sources

    sources, _, _ = real_sources(None, n, 0)
    copy_of = {}
    for name, img in list(sources.items())[:n]:
        big = img.resize((4032, 3024), Image.Resampling.BICUBIC)
        p = folder / f"{name}.jpg"
        big.save(p, quality=92)
        copy_of[str(p)] = name
        for kind, e in combined_edits(big).items():
            if kind in ("crop-border", "rotate-crop", "turn90-q40", "grey-crop"):
                q = folder / f"{name}--{kind}.jpg"
                e.save(q, quality=QUALITY.get(kind, 85))
                copy_of[str(q)] = name
    return copy_of


def main() -> None:
    args = sys.argv[1:]
    scenes = int(pop_option(args, "--max-scenes", 100))
    camera = int(pop_option(args, "--camera", 0))
    work = Path(args[0] if args else tempfile.mkdtemp(prefix="pf-dupspeed-"))
    work.mkdir(parents=True, exist_ok=True)
    out = {"machine": "2 cores shared with other sessions: timings are noisy; ratios are "
                      "from one run"}
    folder = work / "set-photos"
    folder.mkdir(exist_ok=True)
    copy_of, *_ = make_set(folder, None, scenes)
    out["photo_set"] = run_set(work, copy_of, "set")
    if camera:
        cam = work / "camera-photos"
        cam.mkdir(exist_ok=True)
        out["camera_12mp_set"] = run_set(work, camera_set(cam, camera), "camera")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
