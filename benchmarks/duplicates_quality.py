"""Duplicate-finding quality, printed as JSON.

1. ../shared/testdata (when present): are the known groups found (bridge edits + its 8
   rotations/flips + its mode conversions as ONE group; the 4 EXIF-rotated phone photos; the
   ukbench00120 copies) and does anything unrelated join?
2. A generated evaluation from real photos (scikit-image's samples; photos are written to a
   temporary folder, never to the repository), each with logged edits: rotations, mirrors,
   greyscale, crops, resizes, recompression, borders, a watermark, brightness. Pairwise
   precision and recall of the groups (a pair is positive when both files come from one
   source photo), with and without the strict check, and beside them an imagehash pHash
   baseline (Hamming distance <= 10, the usual setting) on the same files. The stereo pair
   (another viewpoint) is in the set as two different sources.
3. With ``--photos DIR``: every JPEG/PNG photo under DIR (e.g. a Debian wallpaper package
   unpacked with ``apt-get download mate-backgrounds && dpkg -x *.deb /tmp/wp``; never
   committed) joins the sources, shrunk to at most 1600 px, with the same edits; its
   precision/recall is also reported on its own ("photos_dir_only").
Usage: python benchmarks/duplicates_quality.py [WORKDIR] [--photos DIR]
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "testdata"
T = Image.Transpose
# skimage.data.cat() is chelsea (the same photo): only one of them is a source
SOURCES = ["astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field",
           "immunohistochemistry", "retina", "coins", "camera", "brick", "grass",
           "gravel", "moon", "page", "text", "horse", "clock", "colorwheel", "logo", "eagle",
           "microaneurysms", "skin", "shepp_logan_phantom", "binary_blobs"]


def load_sources() -> dict[str, Image.Image]:
    import skimage.data

    out = {}
    for name in SOURCES:
        try:
            a = getattr(skimage.data, name)()
        except Exception:
            continue
        a = np.asarray(a)
        if a.dtype == bool:
            a = a.astype(np.uint8) * 255
        if a.dtype != np.uint8:
            a = (255 * (a - a.min()) / max(float(a.max() - a.min()), 1e-9)).astype(np.uint8)
        if a.ndim == 2:
            a = np.stack([a] * 3, -1)
        out[name] = Image.fromarray(a[..., :3]).convert("RGB")
    left, right, _ = skimage.data.stereo_motorcycle()
    out["stereo_left"] = Image.fromarray(left)
    out["stereo_right"] = Image.fromarray(right)  # another viewpoint: a different source
    return out


# Sources in Debian's wallpaper packages that are one picture (checked by eye): colour
# variants of one artwork, and one wallpaper shipped under two names. Copies of each other
# by this definition (colour changes), so they are one source in the truth.
ALIASES = {"dir-Ubuntu-Mate-Radioactive-no-logo": "dir-Ubuntu-Mate-Cold-no-logo",
           "dir-Ubuntu-Mate-Warm-no-logo": "dir-Ubuntu-Mate-Cold-no-logo",
           "dir-MATE-Stripes-Dark": "dir-MATE-Stripes-Light",
           "dir-lomiri-default-background": "dir-warty-final-ubuntu"}


def load_photo_dir(folder: Path) -> dict[str, Image.Image]:
    """Photos from a folder; files named NAME_WxH are resized copies of NAME and are left out
    (so no unlabelled duplicates enter the truth), and so are flat pictures (transparent
    overlays that are one colour once composited: identical to each other)."""
    import re

    out = {}
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    for p in files:
        if re.search(r"_\d+x\d+$", p.stem):
            continue
        try:
            img = Image.open(p)
            img = ImageOps.exif_transpose(img).convert("RGB")
        except Exception:
            continue
        img.thumbnail((1600, 1600), Image.Resampling.LANCZOS)
        if float(np.asarray(img.convert("L"), dtype=np.float32).std()) < 8:
            continue
        out[f"dir-{p.stem}"] = img
    return out


def edits(img: Image.Image) -> dict[str, Image.Image]:
    w, h = img.size
    wm = img.copy()
    d = ImageDraw.Draw(wm)
    d.text((w // 20, h - h // 8), "(c) photofinder 2024", fill=(255, 255, 255))
    d.rectangle((w - w // 6, h // 20, w - w // 20, h // 8), fill=(255, 255, 255))
    return {
        "rot90": img.transpose(T.ROTATE_90), "rot180": img.transpose(T.ROTATE_180),
        "rot270": img.transpose(T.ROTATE_270), "mirror": img.transpose(T.FLIP_LEFT_RIGHT),
        "flip": img.transpose(T.FLIP_TOP_BOTTOM), "grey": ImageOps.grayscale(img),
        "crop85": img.crop((int(w * .075), int(h * .075), int(w * .925), int(h * .925))),
        "crop70-corner": img.crop((0, 0, int(w * .7), int(h * .7))),
        "half": img.resize((w // 2, h // 2), Image.Resampling.LANCZOS),
        "quarter": img.resize((max(64, w // 4), max(64, h // 4)), Image.Resampling.LANCZOS),
        "q30": img, "border": ImageOps.expand(img, border=max(w, h) // 15, fill=(0, 0, 0)),
        "watermark": wm, "brighter": ImageEnhance.Brightness(img).enhance(1.3),
        "rot90-half": img.transpose(T.ROTATE_90).resize((h // 2, w // 2)),
    }


def pairs_of(groups: list[set[str]]) -> set[frozenset]:
    return {frozenset(p) for g in groups for p in itertools.combinations(sorted(g), 2)}


def pr(pred: set, truth: set) -> dict:
    tp = len(pred & truth)
    return {"precision": round(tp / len(pred), 4) if pred else 1.0,
            "recall": round(tp / len(truth), 4) if truth else 1.0,
            "true_pairs": len(truth), "predicted_pairs": len(pred), "false_pairs": len(pred - truth)}


def shared_check(work: Path) -> dict:
    from photofinder.dedup import finder as D
    from photofinder.library import Library

    with Library(work / "shared-lib") as lib:
        lib.add_folder(SHARED)
        lib.update()
        groups = D.find_groups(lib)
    rel = [{os.path.relpath(m.path, SHARED) for m in g.members} for g in groups]
    bridge_files = {str(p.relative_to(SHARED)) for d in ("pdq/bridge-mods", "pdq/reg-test-input/dih",
                                                          "pdq/misc-images/modes")
                    for p in (SHARED / d).iterdir() if p.suffix != ".md"}
    exif = {str(p.relative_to(SHARED)) for p in (SHARED / "pdq/reg-test-input/exif-rotn").iterdir()}
    u120 = {f"imagededup/mixed_images/ukbench00120{s}.jpg" for s in ("", "_hflip", "_resize", "_rotation")}
    def one_group(files):
        hits = [g for g in rel if g & files]
        return len(hits) == 1 and files <= hits[0]
    known = [g for g in rel if g & (bridge_files | exif | u120)]
    # alpha_channel_image.png is ukbench00120 with an alpha channel (checked by eye): a copy
    extra = sorted(p for g in known for p in g
                   if p not in bridge_files | exif and "ukbench00120" not in p
                   and p != "imagededup/alpha_channel_image.png")
    grouped = set().union(*rel) if rel else set()
    return {"bridge_one_group": one_group(bridge_files), "bridge_files": len(bridge_files),
            "exif_rotn_one_group": one_group(exif), "ukbench00120_one_group": one_group(u120),
            "unrelated_joined_known_groups": extra,
            "small_or_wee_grouped": sorted(p for p in grouped if p.endswith(("small.jpg", "wee.jpg"))),
            "groups": [sorted(g) if len(g) < 8 else f"{len(g)} files" for g in rel]}


def main() -> None:
    import imagehash

    from photofinder.dedup import finder as D
    from photofinder.library import Library

    args = sys.argv[1:]
    photo_dir = None
    if "--photos" in args:
        i = args.index("--photos")
        photo_dir = Path(args[i + 1])
        del args[i:i + 2]
    work = Path(args[0] if args else tempfile.mkdtemp(prefix="pf-dupq-"))
    photos = work / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    source_of: dict[str, str] = {}
    log = []
    sources = load_sources()
    if photo_dir:
        sources.update(load_photo_dir(photo_dir))
    for name, img in sources.items():
        p = photos / f"{name}.jpg"
        img.save(p, quality=92)
        label = ALIASES.get(name, name)
        source_of[str(p)] = label
        if name == "stereo_right":
            continue
        for kind, e in edits(img).items():
            q = photos / f"{name}--{kind}.jpg"
            e.save(q, quality=30 if kind == "q30" else 85)
            source_of[str(q)] = label
            log.append(f"{name}--{kind}")
    truth = pairs_of([{p for p, s in source_of.items() if s == name} for name in set(source_of.values())])
    result: dict = {"files": len(source_of), "sources": len(set(source_of.values())),
                    "edits": sorted({l.split("--")[1] for l in log})}
    with Library(work / "lib") as lib:
        lib.add_folder(photos)
        lib.update()
        for verify in (True, False):
            stats: dict = {}
            groups = D.find_groups(lib, verify=verify, stats=stats)
            pred = pairs_of([{m.path for m in g.members} for g in groups])
            key = "photofinder" if verify else "photofinder_without_strict_check"
            if photo_dir:
                mine = {p for p, src in source_of.items() if src.startswith("dir-")}
                result[key + "_photos_dir_only"] = {
                    **pr({q for q in pred if q <= mine}, {q for q in truth if q <= mine}),
                    "files": len(mine)}
            result[key] = {**pr(pred, truth), "stats": stats,
                           "false_pair_examples": sorted(" ~ ".join(sorted(os.path.basename(x) for x in p))
                                                         for p in pred - truth)[:10],
                           "missed_examples": sorted(" ~ ".join(sorted(os.path.basename(x) for x in p))
                                                     for p in truth - pred)[:10]}
    hashes = {p: imagehash.phash(Image.open(p)) for p in source_of}
    ph = {frozenset((a, b)) for a, b in itertools.combinations(sorted(hashes), 2)
          if hashes[a] - hashes[b] <= 10}
    result["phash_baseline_hamming_le_10"] = pr(ph, truth)
    if SHARED.is_dir():
        result["shared_testdata"] = shared_check(work)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
