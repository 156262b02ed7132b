"""``duplicates`` at realistic scale (10k -> 100k photos): time, counts, memory; prints JSON.

What the library holds (a real catalogue and HNSW index; the duplicates check runs as in use):
- a REAL part, indexed through the real pipeline: real photos (scikit-image's, the first photo
  of each scene of ../shared/evaldata/holidays-dev, and with ``--photos DIR`` e.g. Debian
  wallpapers), each with four combined edits (crop + border, rotation + crop, a 90° turn at
  quality 40, grey + crop) and two burst frames (tests/dedup_shots.py). Their vectors,
  signatures and cached local features are the templates below;
- PLANTED families up to the target density (``--copies 0.1 --bursts 0.1`` of all photos):
  copy families (an original and its four edits) and burst families (an original and two
  frames), each a real family's vectors (coordinates permuted by one random permutation per
  family: inner products within the family stay exactly as measured, families are unrelated
  to each other), signatures (plus a smooth random field per family, turned with the turned
  member; a family's members keep their relations, families of one template get other
  signature hashes), colourfulness and cached features (the template's, so the strict check
  does its real work; two families of one template ARE copies of each other wherever a
  candidate joins them);
- FILL photos: real vectors, each permuted on its own plus a little noise (real marginal
  statistics, no real neighbours), signatures blended from two real ones plus a random field,
  the colourfulness of the photo whose vector they took (so grey photos are as common as in
  the real part: about one in seven, each with one more candidate pair to check).
Planted photos have no files: their features are in the cache. The cost of computing
features for a candidate photo is measured on the real part (``features_ms_per_photo``).
The library then learns its whitening as indexing does (a 128-d graph; the candidates' raw
cosines re-scored from the stored vectors); ``--raw-index`` keeps the raw 1280-d graph of a
library under projection.MIN_TRAIN photos (what this benchmark measured before).
Memory: ``rss_peak_mb`` is the largest RSS sampled while ``duplicates`` ran, ``rss_growth_mb``
that over the RSS before it (the process has built the library before: freed memory is reused).
``--repeat N``: the first run is made N times from scratch (verdicts, searches and results
forgotten between), ``duplicates_first_run_s`` is their median (the stats: the last's).
Usage: python benchmarks/duplicates_scale.py [--sizes 10000,30000,100000] [--work DIR]
       [--photos DIR] [--copies 0.1] [--bursts 0.1] [--raw-index] [--repeat N]
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _common import median, asks_help, pop_option, rss_mb  # noqa: E402

EDITS = ["crop-border", "rotate-crop", "turn90-q40", "grey-crop"]


def build_real(work: Path, photo_dir: str | None) -> tuple[Path, dict]:
    """Index the real part once; returns (library dir, info)."""

    from dedup_shots import QUALITY, burst, combined_edits
    from duplicates_quality import real_sources
    from photofinder.library import Library

    lib_dir = work / "real-lib"
    folder = work / "real-photos"
    if not (lib_dir / "catalog.sqlite").exists():
        folder.mkdir(parents=True, exist_ok=True)
        sources, _, _ = real_sources(Path(photo_dir) if photo_dir else None, 100, 0)
        for i, (name, img) in enumerate(sources.items()):
            img.save(folder / f"{name}.jpg", quality=92)
            ed = combined_edits(img)
            for kind in EDITS:
                ed[kind].save(folder / f"{name}--{kind}.jpg", quality=QUALITY.get(kind, 85))
            for k in range(2):
                burst(img, seed=1000 * i + k).save(folder / f"{name}--burst{k}.jpg", quality=90)
        with Library(lib_dir) as lib:
            lib.add_folder(folder)
            lib.update(duplicates=False)  # checked below, cold
    info: dict = {}
    with Library(lib_dir) as lib:
        for table in ("dedup_pairs", "dedup_searched", "dedup_features", "dedup_results"):
            lib.catalog.db.execute(f"DELETE FROM {table}")  # a cold run, each time
        stats: dict = {}
        lib.find_duplicates(stats=stats)  # computes and caches every candidate's features
        info["real_first_run"] = stats
        info["features_ms_per_photo"] = round(1000 * stats.get("features_s", 0) /
                                              max(stats.get("features", 1), 1), 1)
        rows = lib.catalog.db.execute(
            "SELECT p.id, p.path, p.hash, p.width, p.height, e.vector, s.sig, s.colour FROM photos p "
            "JOIN embeddings e ON e.photo_id=p.id JOIN signatures s ON s.photo_id=p.id "
            "WHERE p.status='indexed'").fetchall()
        feats = dict(lib.catalog.db.execute("SELECT hash, data FROM dedup_features").fetchall())
    fams: dict = {}
    for pid, path, h, w, hh, vec, sig, colour in rows:
        stem = Path(path).stem
        name, _, role = stem.partition("--")
        fams.setdefault(name, {})[role or "orig"] = {
            "hash": h, "w": w, "h": hh, "vec": np.frombuffer(vec, np.float16).astype(np.float32),
            "sig": np.frombuffer(sig, np.uint8).reshape(48, 48), "feat": feats.get(h),
            "colour": colour}
    info["templates"] = {n: f for n, f in fams.items() if all(r in f and f[r]["feat"] for r in
                                                             ["orig", *EDITS, "burst0", "burst1"])}
    info["real_photos"] = len(rows)
    return lib_dir, info


def smooth_field(rng, amp: float) -> np.ndarray:
    """A smooth random field: new low-frequency content, so new signature hashes."""
    import cv2

    return cv2.resize(rng.normal(0, amp, (6, 6)).astype(np.float32), (48, 48),
                      interpolation=cv2.INTER_CUBIC)


def plant(lib_dir: Path, n: int, templates: dict, copies: float, bursts: float, rng) -> dict:
    """Add planted families and fill photos to a copy of the real library."""
    from photofinder.library import Library
    from photofinder.identity import encode_vector

    names = sorted(templates)
    all_vecs = np.stack([r["vec"] for t in templates.values() for r in t.values()])
    all_sigs = np.stack([r["sig"] for t in templates.values() for r in t.values()]).astype(np.float32)
    all_colours = [r["colour"] for t in templates.values() for r in t.values()]
    with Library(lib_dir) as lib:
        cat = lib.catalog
        real = cat.photos.counts()["indexed"]
        model = lib.embedder.model_id
        folder = cat.folders.add("/synthetic")
        want_copy_fams = int(n * copies) // 5
        want_burst_fams = int(n * bursts) // 3
        plan = [("copy", k) for k in range(want_copy_fams)] + [("burst", k) for k in range(want_burst_fams)]
        planted = sum(5 if k == "copy" else 3 for k, _ in plan)
        fill = max(0, n - real - planted)
        serial = [0]
        rows, feats = [], []

        def add(vec, sig, w, h, feat, colour):
            serial[0] += 1
            hsh = f"synthetic{serial[0]:09d}"
            rows.append((f"/synthetic/{serial[0]:07d}.jpg", hsh, w, h, vec, sig, colour))
            if feat is not None:
                feats.append((hsh, feat))

        for kind, k in plan:
            t = templates[names[k % len(names)]]
            perm = rng.permutation(all_vecs.shape[1])
            field = smooth_field(rng, 70.0)
            roles = ["orig", *EDITS] if kind == "copy" else ["orig", "burst0", "burst1"]
            for role in roles:
                r = t[role]
                f = np.rot90(field) if role == "turn90-q40" else field
                sig = np.clip(0.6 * r["sig"].astype(np.float32) + f + 50, 0, 255)
                add(r["vec"][perm], sig.astype(np.uint8), r["w"], r["h"], r["feat"], r["colour"])
        for _ in range(fill):
            pick = rng.integers(len(all_vecs))
            v = all_vecs[pick][rng.permutation(all_vecs.shape[1])]
            v = v + rng.normal(0, 0.01, v.shape).astype(np.float32)
            a, b = all_sigs[rng.integers(len(all_sigs), size=2)]
            sig = np.clip(0.5 * (a + b[::-1]) + smooth_field(rng, 25.0), 0, 255).astype(np.uint8)
            add(v, sig, 1600, 1200, None, all_colours[pick])
        for start in range(0, len(rows), 5000):
            with cat.transaction():
                for i, (path, hsh, w, h, vec, sig, colour) in enumerate(rows[start:start + 5000], start):
                    pid = cat.photos.insert(folder.id, path, 1_000_000, 0, 1, 10_000_000 + i)
                    v = vec / np.linalg.norm(vec)
                    cat.photos.record_result(pid, {"hash": hsh, "width": w, "height": h, "orientation": 1,
                                            "taken_at": None, "format": "JPEG", "size": 1_000_000,
                                            "mtime_ns": 0, "signature": sig.tobytes(),
                                            "colour": colour},
                                      model, encode_vector(v))
        from photofinder.dedup import features as F

        cat.dedup.set_features(dict(feats), F.VERSION)
    return {"real_photos": real, "planted_copy_families": want_copy_fams,
            "planted_burst_families": want_burst_fams, "photos_in_copy_families": 5 * want_copy_fams,
            "photos_in_burst_families": 3 * want_burst_fams, "fill_photos": fill}


def measure(lib_dir: Path, project: bool = True, repeat: int = 1) -> dict:
    from photofinder.library import Library

    out: dict = {}
    with Library(lib_dir) as lib:
        t = time.monotonic()
        if project:  # as indexing ends: a library this big learns its whitening (128-d graph)
            lib.projections.refit()
        lib.space.index  # the HNSW index, built from the stored vectors
        out["index_build_s"] = round(time.monotonic() - t, 1)
        out["projection"] = lib.projection_status()["version"]
        with lib.writer.held():
            lib.space.index.save()
    with Library(lib_dir) as lib:
        t = time.monotonic()
        lib.space.index
        out["index_load_s"] = round(time.monotonic() - t, 2)
        peak = [rss_mb()]
        out["rss_before_mb"] = peak[0]
        stop = threading.Event()

        def sample():
            while not stop.wait(0.2):
                peak[0] = max(peak[0], rss_mb())
        th = threading.Thread(target=sample, daemon=True)
        before = rss_mb()
        th.start()
        firsts = []
        for attempt in range(repeat):
            if attempt:  # from scratch again: the verdicts, searches and results forgotten
                for table in ("dedup_pairs", "dedup_searched", "dedup_results"):
                    lib.catalog.db.execute(f"DELETE FROM {table}")
            stats: dict = {}
            t = time.monotonic()
            found = lib.find_duplicates(stats=stats)
            firsts.append(round(time.monotonic() - t, 2))
            out["stats_first_run"] = stats
        out["duplicates_first_run_s"] = median(firsts)
        out["duplicates_first_run_s_runs"] = firsts
        stats = {}
        t = time.monotonic()
        found = lib.find_duplicates(stats=stats)
        out["duplicates_again_run_s"] = round(time.monotonic() - t, 2)
        out["stats_again_run"] = stats
        stop.set()
        th.join()
        out.update(copy_groups=len(found.groups), similar_shot_groups=len(found.similar_shots),
                   photos_in_copy_groups=sum(len(g.members) for g in found.groups),
                   photos_in_similar_shots=sum(len(g.members) for g in found.similar_shots),
                   rss_growth_mb=round(peak[0] - before), rss_peak_mb=round(peak[0]))
    return out


def main() -> None:
    args = sys.argv[1:]
    if asks_help(args, __doc__):
        return
    sizes = [int(s) for s in pop_option(args, "--sizes", "10000,30000,100000").split(",")]
    work = Path(pop_option(args, "--work", tempfile.mkdtemp(prefix="pf-dupscale-")))
    copies, bursts = float(pop_option(args, "--copies", 0.1)), float(pop_option(args, "--bursts", 0.1))
    repeat = int(pop_option(args, "--repeat", 1))
    work.mkdir(parents=True, exist_ok=True)
    real_dir, info = build_real(work, pop_option(args, "--photos", None))
    out: dict = {"machine": "2 cores shared with other sessions: timings are noisy",
                 "real_photos": info["real_photos"], "templates": len(info["templates"]),
                 "features_ms_per_photo": info["features_ms_per_photo"],
                 "real_part_first_run": info["real_first_run"], "sizes": {}}
    rng = np.random.default_rng(7)
    for n in sizes:
        d = work / f"lib-{n}"
        if d.exists():
            shutil.rmtree(d)
        d.mkdir()
        src = sqlite3.connect(real_dir / "catalog.sqlite")
        dst = sqlite3.connect(d / "catalog.sqlite")
        src.backup(dst)
        dst.executescript("DELETE FROM dedup_pairs; DELETE FROM dedup_searched; DELETE FROM dedup_results;")
        dst.close()
        src.close()
        t = time.monotonic()
        res = plant(d, n, info["templates"], copies, bursts, rng)
        res["build_catalogue_s"] = round(time.monotonic() - t, 1)
        res.update(measure(d, project="--raw-index" not in args, repeat=repeat))
        out["sizes"][str(n)] = res
        print(json.dumps({str(n): res}), file=sys.stderr)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
