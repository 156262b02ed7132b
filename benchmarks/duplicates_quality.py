"""Duplicates quality and speed on real photos, beside imagehash's pHash; prints JSON.

The set (written to a temporary folder, never to the repository):
- sources: scikit-image's real photos and the first photo of each scene of
  ../shared/evaldata/holidays-dev (INRIA Holidays, when present); with ``--photos DIR``
  also the photos under DIR (e.g. Debian wallpapers: ``apt-get download mate-backgrounds``
  then ``dpkg -x``), shrunk to at most 1600 px;
- for each source, combined edits (tests/dedup_shots.py): crop + border, rotation + crop,
  90° turn saved at quality 40, grey + crop, an off-centre 70% crop, an 8% white border, a
  half-size copy, a mirror: the truth says they are copies of the source;
- look-alikes that are NOT copies: two burst frames rendered from each source (camera
  shift, zoom, parallax, a moving region, fresh noise), the real stereo pair of
  scikit-image, and every pair of photos of one Holidays scene (other views).

Reported: per-edit recall, pairwise precision/recall, the keeper (is the source the copy
kept?), look-alike pairs put in one copy group (goal <= 1%) and shown as similar shots, the
same for pHash (Hamming <= 10); and the times, beside pHash's whole run (read, hash, group)
on the same files, measured in this one run: indexing; the duplicates check as indexing
ends (``Library.update`` runs it: every candidate pair of the library checked, from
scratch; its stats are ``photofinder_stats_check``); then ``duplicates`` on that indexed
library, as a user runs it, and again.
Usage: python benchmarks/duplicates_quality.py [WORKDIR] [--photos DIR] [--max-scenes N]
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from _common import pop_option  # noqa: E402

HOLIDAYS = HERE.parents[1] / "shared" / "evaldata" / "holidays-dev"
SKIMAGE = ["astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "retina", "camera",
           "coins", "hubble_deep_field"]


def real_sources(photo_dir: Path | None, max_scenes: int) -> tuple[dict, list]:
    """({name: image}, [holidays look-alike photos as (scene, image)])."""
    import skimage.data

    out, views = {}, []
    for name in SKIMAGE:
        a = np.asarray(getattr(skimage.data, name)())
        if a.ndim == 2:
            a = np.stack([a] * 3, -1)
        out[name] = Image.fromarray(a[..., :3].astype(np.uint8))
    if HOLIDAYS.is_dir():
        seen: set[bytes] = set()
        for scene in sorted(HOLIDAYS.iterdir())[:max_scenes]:
            files = sorted(scene.glob("*.jpg"))
            digests = {hashlib.sha256(f.read_bytes()).digest() for f in files}
            if digests & seen:
                continue  # the set holds one scene twice (1031 = 1039, byte for byte): once
            seen |= digests
            if files:
                out[f"h{scene.name}"] = ImageOps.exif_transpose(Image.open(files[0])).convert("RGB")
                views += [(f"h{scene.name}", f) for f in files[1:]]
    if photo_dir:
        for p in sorted(photo_dir.rglob("*")):
            if p.suffix.lower() not in (".jpg", ".jpeg", ".png") or "x" in p.stem.split("_")[-1]:
                continue
            try:
                img = ImageOps.exif_transpose(Image.open(p)).convert("RGB")
            except Exception:
                continue
            img.thumbnail((1600, 1600))
            if float(np.asarray(img.convert("L"), np.float32).std()) >= 8:
                out[f"wp-{p.stem}"] = img
    return out, views


def pairs_of(groups) -> set[frozenset]:
    return {frozenset(p) for g in groups for p in itertools.combinations(sorted(g), 2)}


def make_set(folder: Path, photo_dir, max_scenes):
    import shutil

    from dedup_shots import QUALITY, burst, combined_edits

    sources, views = real_sources(photo_dir, max_scenes)
    copy_of, original, edit_of, lookalike = {}, {}, {}, set()
    for i, (name, img) in enumerate(sources.items()):
        p = folder / f"{name}.jpg"
        img.save(p, quality=92)
        copy_of[str(p)] = name
        original[name] = str(p)
        for kind, e in combined_edits(img).items():
            q = folder / f"{name}--{kind}.jpg"
            e.save(q, quality=QUALITY.get(kind, 85))
            copy_of[str(q)] = name
            edit_of[str(q)] = kind
        frames = []
        for k in range(2):
            b = folder / f"{name}--burst{k}.jpg"
            burst(img, seed=1000 * i + k).save(b, quality=90)
            copy_of[str(b)] = f"{name}--burst{k}"
            frames.append(str(b))
        lookalike |= {frozenset((str(p), f)) for f in frames} | {frozenset(frames)}
    import skimage.data

    left, right, _ = skimage.data.stereo_motorcycle()
    for side, arr in (("left", left), ("right", right)):
        Image.fromarray(arr).save(folder / f"stereo-{side}.jpg", quality=92)
        copy_of[str(folder / f"stereo-{side}.jpg")] = f"stereo-{side}"
    lookalike.add(frozenset((str(folder / "stereo-left.jpg"), str(folder / "stereo-right.jpg"))))
    by_scene: dict = {}
    for scene, f in views:
        q = folder / f"{scene}--view-{f.stem}.jpg"
        shutil.copy(f, q)
        copy_of[str(q)] = f"{scene}--view-{f.stem}"
        by_scene.setdefault(scene, [original[scene]]).append(str(q))
    for files in by_scene.values():
        lookalike |= {frozenset(p) for p in itertools.combinations(files, 2)}
    truth = pairs_of([{p for p, s in copy_of.items() if s == name} for name in set(copy_of.values())])
    return copy_of, original, edit_of, truth, lookalike


def score(pred: set, truth: set, edit_of: dict, original: dict, copy_of: dict, lookalike: set) -> dict:
    tp = len(pred & truth)
    per_edit = {}
    for kind in sorted(set(edit_of.values())):
        want = {frozenset((original[copy_of[q]], q)) for q, k in edit_of.items() if k == kind}
        per_edit[kind] = round(len(want & pred) / len(want), 4)
    joined = lookalike & pred
    return {"precision": round(tp / len(pred), 4) if pred else 1.0,
            "recall": round(tp / len(truth), 4), "per_edit_recall": per_edit,
            "lookalike_pairs": len(lookalike), "lookalike_in_copy_groups": len(joined),
            "lookalike_in_copy_groups_share": round(len(joined) / len(lookalike), 4)}


def phash_run(files: list[str]) -> tuple[set, float]:
    import imagehash

    t = time.monotonic()
    hashes = {p: imagehash.phash(Image.open(p)) for p in files}
    keys = sorted(hashes)
    bits = np.array([h.hash.flatten() for h in (hashes[k] for k in keys)], np.uint8)
    packed = np.packbits(bits, axis=1).view(">u8").ravel()
    pred = set()
    for i in range(len(keys)):  # vectorised Hamming distance, each photo against the rest
        x = np.bitwise_xor(packed[i], packed[i + 1:])
        d = np.unpackbits(x.view(np.uint8).reshape(-1, 8), axis=1).sum(1)
        pred |= {frozenset((keys[i], keys[i + 1 + j])) for j in np.nonzero(d <= 10)[0]}
    return pred, time.monotonic() - t


def main() -> None:
    from photofinder.library import Library

    args = sys.argv[1:]
    photos = pop_option(args, "--photos")
    photo_dir = Path(photos) if photos else None
    max_scenes = int(pop_option(args, "--max-scenes", 100))
    work = Path(args[0] if args else tempfile.mkdtemp(prefix="pf-dupq-"))
    folder = work / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    copy_of, original, edit_of, truth, lookalike = make_set(folder, photo_dir, max_scenes)
    out: dict = {"files": len(copy_of), "sources": len(original), "edits": sorted(set(edit_of.values())),
                 "lookalike_pairs": {"bursts": sum(1 for p in lookalike if any("burst" in x for x in p)),
                                     "holidays_other_views":
                                         sum(1 for p in lookalike if any("--view-" in x for x in p)),
                                     "stereo": 1},
                 "machine": "2 cores shared with other sessions: timings are noisy"}
    with Library(work / "lib") as lib:
        lib.add_folder(folder)
        lib.scan()
        t = time.monotonic()
        lib.index_pending()
        index_s = time.monotonic() - t
        # as ``update`` ends: every candidate pair of the library checked (from scratch)
        check: dict = {}
        t = time.monotonic()
        lib.check_duplicates(stats=check)
        check_s = time.monotonic() - t
        runs = []
        for attempt in range(2):  # then ``duplicates``, as a user runs it
            stats: dict = {}
            t = time.monotonic()
            found = lib.find_duplicates(stats=stats)
            runs.append((time.monotonic() - t, stats))
        pred = pairs_of([{m.path for m in g.members} for g in found.groups])
        shots = pairs_of([{m.path for m in g.members} for g in found.similar_shots])
        res = score(pred, truth, edit_of, original, copy_of, lookalike)
        res["lookalike_in_similar_shots"] = len(lookalike & shots)
        kept = [g for g in found.groups if any(m.path == original.get(copy_of.get(m.path)) for m in g.members)]
        good = sum(1 for g in kept if g.keep == original.get(copy_of.get(g.keep)) and g.keep in original.values())
        res["keeper_is_original"] = {"groups": len(kept), "original_kept": good,
                                     "share": round(good / max(len(kept), 1), 4)}
        res["wrong_keepers"] = [(g.keep.rsplit("/", 1)[-1], g.members[0].reasons[0][:90]) for g in kept
                                if g.keep not in original.values()][:5]
        res["false_pairs"] = sorted(" ~ ".join(sorted(x.rsplit("/", 1)[-1] for x in p)) for p in pred - truth)[:8]
        res["missed"] = sorted(" ~ ".join(sorted(x.rsplit("/", 1)[-1] for x in p)) for p in truth - pred)[:8]
        out["photofinder"] = res
        out["photofinder_stats_check"] = check
        out["photofinder_stats_duplicates_run"] = runs[0][1]
    ph_pred, ph_s = phash_run(sorted(copy_of))
    out["phash_hamming_le_10"] = score(ph_pred, truth, edit_of, original, copy_of, lookalike)
    out["time_s"] = {"indexing": round(index_s, 2),
                     "check_as_indexing_ends": round(check_s, 2),
                     "duplicates_on_indexed_library": round(runs[0][0], 2),
                     "duplicates_again": round(runs[1][0], 2),
                     "phash_whole_run": round(ph_s, 2),
                     "ratio_duplicates_to_phash": round(runs[0][0] / ph_s, 3),
                     "ratio_check_to_phash": round(check_s / ph_s, 2),
                     "check_share_of_indexing_and_check": round(check_s / (index_s + check_s), 3)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
