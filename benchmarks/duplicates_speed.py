"""``duplicates`` beside imagehash pHash's whole run, on the same files, in ONE run; prints JSON.

The files: the real-photo set of duplicates_quality.py (sources with combined edits, burst
frames, Holidays' other views), at their size (<= 1600 px), and with ``--camera`` also a
set at camera size (each source rendered at 4032x3024 with the same edits: 12-megapixel
JPEGs, where decoding dominates). For each set, in this order:
- 95% of the files are indexed (not timed);
- ``duplicates`` first run on that indexed library (features of the candidate photos
  computed and cached, every candidate pair checked), then again (nothing new);
- pHash's whole run on the same 95%: open, hash and group every file (Hamming <= 10,
  vectorised);
- the last 5% arrive and are indexed; ``duplicates`` again: only their candidates checked.
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
    with Library(work / f"{label}-lib") as lib:
        lib.add_folder(folder)
        lib.update()  # indexed (not timed)
        for name in ("first_run", "again_nothing_new"):
            stats: dict = {}
            t = time.monotonic()
            lib.find_duplicates(stats=stats)
            runs[name] = {"s": round(time.monotonic() - t, 2), "stats": stats}
        _, ph = phash_run(first)  # the same files, from scratch
        for p in late:
            shutil.move(hold / Path(p).name, p)
        lib.update()
        stats = {}
        t = time.monotonic()
        lib.find_duplicates(stats=stats)
        runs["after_5pct_new_photos"] = {"s": round(time.monotonic() - t, 2), "stats": stats}
    out["duplicates"] = runs
    out["phash_whole_run_s"] = round(ph, 2)
    out["ratio_first_run_to_phash"] = round(runs["first_run"]["s"] / ph, 2)
    out["ratio_again_to_phash"] = round(runs["again_nothing_new"]["s"] / ph, 3)
    out["ratio_after_new_photos_to_phash"] = round(runs["after_5pct_new_photos"]["s"] / ph, 3)
    return out


def camera_set(folder: Path, n: int) -> dict:
    """Sources at 12 MP with the same edits (as JPEGs a camera writes)."""
    from PIL import Image

    from dedup_shots import QUALITY, combined_edits
    from duplicates_quality import real_sources

    sources, _ = real_sources(None, n)
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
