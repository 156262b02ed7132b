"""Duplicates quality and speed on real photos, beside pHash and czkawka in the same run;
prints JSON.

The set (written to WORKDIR or a temporary folder, never to the repository):
- sources, from three origins: scikit-image's real photos; the first photo of each scene of
  ../shared/evaldata/holidays-dev (INRIA Holidays, when present); with ``--photos DIR`` the
  pictures in DIR (Debian's wallpaper packages: benchmarks/fetch_duplicates_sources.py
  fetches them by name), shrunk to at most 1600 px. One source in ``--small-every`` (6)
  is shrunk to 110-200 px on its long side first (a small picture off the web). A source
  whose pHash is within 8 bits of an earlier one's is left out (a package may ship one
  picture twice): the truth would be wrong.
- copies of each source (tests/dedup_edits.py): every edit family of issue 20 (tone and
  colour, degradations, overlays, geometry), ``--copies S,P,T`` (4,2,2) of them: S edits
  alone (taken in turn, so every edit is met as often), P pairs and T triples of edits of
  different families. Each copy is saved at a JPEG quality drawn from 85/92/95 (the
  original: 92), or as its resave edit says (JPEG 20, WebP 30): the keeper cannot lean on
  "least compressed".
- look-alikes that are NOT copies: two burst frames per source (camera shift, parallax, a
  moving subject, fresh noise; tests/dedup_shots.py), for one source in three a tripod pan
  of 2-4 degrees and a tripod frame in which one subject moved, the stereo pair of
  scikit-image, and every pair of photos of one Holidays scene (other views).
``--families F,...``: only edits of these families (tuning with one held out).
``--keeper`` (with ``--reuse``): the library an earlier run indexed and checked, as it is:
``duplicates`` once, the keeper's accuracy only (by origin: tune on two, check the third).

Modes:
- default: the whole run as a user makes it: index (the check runs as indexing ends), then
  ``duplicates`` on the indexed library, twice; pHash (imagehash, Hamming <= 10) and
  czkawka (its Rust core, similarity levels 5 to 20, each timed) on the same files.
- ``--pairs``: the verdict alone (no candidates, no groups): each truth pair (original,
  copy) and each look-alike pair judged as the finder judges it. Fast; for tuning. Its
  recall is over those (original, copy) pairs; no precision (no pair of two sources is judged).
Reported: precision, recall, per edit and per family recall (copies with the family alone,
and in any combination), per family precision, look-alike pairs in copy groups, keeper
accuracy (the original kept) and pre-selection (damage pre-selected, deliberate edits not).
Usage: python benchmarks/duplicates_quality.py [WORKDIR] [--photos DIR] [--max-scenes N]
       [--copies 4,2,2] [--families tone,degrade,overlay,geometry] [--small-every 6] [--pairs]
       [--reuse [--keeper]]
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

from _common import asks_help, pop_option  # noqa: E402

HOLIDAYS = HERE.parents[1] / "shared" / "evaldata" / "holidays-dev"
SKIMAGE = ["astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "retina", "camera",
           "coins", "hubble_deep_field"]
PICTURES = {".jpg", ".jpeg", ".png", ".webp"}


def _flag(args: list[str], name: str) -> bool:
    if name in args:
        args.remove(name)
        return True
    return False


def real_sources(photo_dir: Path | None, max_scenes: int, small_every: int
                 ) -> tuple[dict, list, list]:
    """({name: image}, [holidays other views as (scene, file)], [names left out])."""
    import imagehash
    import skimage.data

    found: list[tuple[str, Image.Image]] = []
    views = []
    for name in SKIMAGE:
        a = np.asarray(getattr(skimage.data, name)())
        if a.ndim == 2:
            a = np.stack([a] * 3, -1)
        found.append((name, Image.fromarray(a[..., :3].astype(np.uint8))))
    if HOLIDAYS.is_dir():
        seen: set[bytes] = set()
        for scene in sorted(HOLIDAYS.iterdir())[:max_scenes]:
            files = sorted(scene.glob("*.jpg"))
            digests = {hashlib.sha256(f.read_bytes()).digest() for f in files}
            if digests & seen:
                continue  # the set holds one scene twice (1031 = 1039, byte for byte): once
            seen |= digests
            if files:
                found.append((f"h{scene.name}", ImageOps.exif_transpose(Image.open(files[0])).convert("RGB")))
                views += [(f"h{scene.name}", f) for f in files[1:]]
    if photo_dir:
        for p in sorted(photo_dir.rglob("*")):
            if p.suffix.lower() not in PICTURES:
                continue
            try:
                img = ImageOps.exif_transpose(Image.open(p)).convert("RGB")
            except Exception:
                continue
            img.thumbnail((1600, 1600))
            if float(np.asarray(img.convert("L"), np.float32).std()) >= 8:
                found.append((f"wp-{p.stem.replace('--', '-')}", img))
    out, hashes, dropped = {}, [], []
    rng = np.random.default_rng(5)
    for i, (name, img) in enumerate(found):
        h = imagehash.phash(img)
        if any(h - g <= 8 for g in hashes):
            dropped.append(name)
            continue
        hashes.append(h)
        if small_every and len(out) % small_every == small_every - 1:
            img = img.copy()
            side = int(rng.integers(110, 201))
            img.thumbnail((side, side), Image.Resampling.LANCZOS)
        out[name] = img
    views = [(s, f) for s, f in views if s in out]
    return out, views, dropped


def pairs_of(groups) -> set[frozenset]:
    return {frozenset(p) for g in groups for p in itertools.combinations(sorted(g), 2)}


class Truth:
    """What the set is: each file's source, each copy's edits, the look-alike pairs."""

    def __init__(self):
        self.source_of: dict[str, str] = {}  # file -> the name of the picture it shows
        self.edits_of: dict[str, list[str]] = {}  # copy -> its edits
        self.original: dict[str, str] = {}  # source name -> its file
        self.small: set[str] = set()  # source names at <= 200 px
        self.lookalike: dict[frozenset, str] = {}  # pair -> kind

    def add(self, path, source, edits=None):
        self.source_of[str(path)] = source
        if edits is not None:
            self.edits_of[str(path)] = edits

    @property
    def pairs(self) -> set[frozenset]:
        by: dict[str, set] = {}
        for p, s in self.source_of.items():
            by.setdefault(s, set()).add(p)
        return pairs_of(by.values())

    def to_json(self) -> dict:
        return {"source_of": self.source_of, "edits_of": self.edits_of, "original": self.original,
                "small": sorted(self.small), "lookalike": [[*sorted(p), k] for p, k in self.lookalike.items()]}

    @classmethod
    def from_json(cls, d: dict) -> "Truth":
        t = cls()
        t.source_of, t.edits_of, t.original = d["source_of"], d["edits_of"], d["original"]
        t.small = set(d["small"])
        t.lookalike = {frozenset((a, b)): k for a, b, k in d["lookalike"]}
        return t

    def without(self, family: str) -> "Truth":
        """The set less the copies that carry an edit of ``family`` (held out)."""
        import dedup_edits as E

        t = Truth.from_json(self.to_json())
        gone = {q for q, es in t.edits_of.items() if family in {E.family(e) for e in es}}
        t.source_of = {p: s for p, s in t.source_of.items() if p not in gone}
        t.edits_of = {q: es for q, es in t.edits_of.items() if q not in gone}
        return t

    def copy_pairs(self) -> list[tuple[str, str]]:
        """(original, copy) for every copy."""
        return [(self.original[self.source_of[q]], q) for q in self.edits_of]


def make_set(folder: Path, sources: dict, views: list, copies: tuple[int, int, int],
             families: list[str] | None) -> Truth:
    import shutil

    import dedup_edits as E
    from dedup_shots import burst, pan, still_burst

    t = Truth()
    for i, (name, img) in enumerate(sources.items()):
        if max(img.size) <= 200:
            t.small.add(name)
        p = folder / f"{name}.jpg"
        img.save(p, quality=92)
        t.add(p, name)
        t.original[name] = str(p)
        rng = np.random.default_rng(1000 + i)
        for k, names in enumerate(E.combos(rng, i * copies[0], *copies, families=families)):
            e, fmt, q = E.apply(img, names, rng, int(rng.choice([85, 92, 95])))
            q_path = folder / f"{name}--{k}-{'+'.join(names)}.{'webp' if fmt == 'WEBP' else 'jpg'}"
            e.save(q_path, fmt, quality=q)
            t.add(q_path, name, names)
        frames = []
        for k in range(2):
            b = folder / f"{name}--burst{k}.jpg"
            burst(img, seed=1000 * i + k).save(b, quality=90)
            t.add(b, f"{name}--burst{k}")
            frames.append(str(b))
            t.lookalike[frozenset((str(p), str(b)))] = "burst"
        t.lookalike[frozenset(frames)] = "burst"
        if i % 3 == 0:
            for kind, shot in (("tripod-pan", pan(img, 2.0 + (i % 5) * 0.5, seed=i)),
                               ("tripod-subject-moved", still_burst(img, seed=i))):
                b = folder / f"{name}--{kind}.jpg"
                shot.save(b, quality=92)
                t.add(b, f"{name}--{kind}")
                t.lookalike[frozenset((str(p), str(b)))] = kind
    import skimage.data

    left, right, _ = skimage.data.stereo_motorcycle()
    for side, arr in (("left", left), ("right", right)):
        Image.fromarray(arr).save(folder / f"stereo-{side}.jpg", quality=92)
        t.add(folder / f"stereo-{side}.jpg", f"stereo-{side}")
    t.lookalike[frozenset((str(folder / "stereo-left.jpg"), str(folder / "stereo-right.jpg")))] = "stereo"
    by_scene: dict = {}
    for scene, f in views:
        q = folder / f"{scene}--view-{f.stem}.jpg"
        shutil.copy(f, q)
        t.add(q, f"{scene}--view-{f.stem}")
        by_scene.setdefault(scene, [t.original[scene]]).append(str(q))
    for files in by_scene.values():
        for pr in itertools.combinations(files, 2):
            t.lookalike[frozenset(pr)] = "other-view"
    return t


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def score(pred: set, t: Truth) -> dict:
    """Precision, recall, per edit / family / size, look-alikes, of predicted copy pairs."""
    import dedup_edits as E

    pred = {pr for pr in pred if all(x in t.source_of for x in pr)}  # held-out files left out
    truth = t.pairs
    tp = len(pred & truth)
    want = {q: frozenset(pq) for pq in t.copy_pairs() for q in pq[1:]}
    per_edit = {}
    for name in E.EDITS:
        qs = [q for q, es in t.edits_of.items() if name in es]
        per_edit[name] = _ratio(sum(want[q] in pred for q in qs), len(qs))
    per_family = {}
    for fam in E.FAMILIES:
        alone = [q for q, es in t.edits_of.items() if {E.family(e) for e in es} == {fam}]
        anyc = [q for q, es in t.edits_of.items() if fam in {E.family(e) for e in es}]
        mine = {want[q] for q in anyc}
        # precision among predicted pairs that hold a copy of the family
        holds = [pr for pr in pred if any(x in t.edits_of and fam in {E.family(e) for e in t.edits_of[x]}
                                          for x in pr)]
        per_family[fam] = {"recall_alone": _ratio(sum(want[q] in pred for q in alone), len(alone)),
                           "recall_any": _ratio(len(mine & pred), len(mine)),
                           "copies": len(anyc),
                           "precision": _ratio(sum(pr in truth for pr in holds), len(holds))}
    small = [q for q in t.edits_of if t.source_of[q] in t.small]
    by_kind: dict = {}
    for pr, kind in t.lookalike.items():
        n, joined = by_kind.get(kind, (0, 0))
        by_kind[kind] = (n + 1, joined + (pr in pred))
    joined = sum(j for _, j in by_kind.values())
    return {"precision": _ratio(tp, len(pred)) if pred else 1.0,
            "recall": _ratio(tp, len(truth)),
            "f1": round(2 * tp / (len(pred) + len(truth)), 4),
            "copy_recall_small_sources": _ratio(sum(want[q] in pred for q in small), len(small)),
            "per_family": per_family, "per_edit_recall": per_edit,
            "lookalike_pairs": len(t.lookalike), "lookalike_in_copy_groups": joined,
            "lookalike_in_copy_groups_share": _ratio(joined, len(t.lookalike)),
            "lookalike_in_copy_groups_by_kind": {k: f"{j} of {n}" for k, (n, j) in sorted(by_kind.items())}}


def origin(source: str) -> str:
    """Which of the three origins a source comes from (its name says)."""
    if source in SKIMAGE:
        return "scikit-image"
    return "holidays" if source.startswith("h") and source[1:].isdigit() else "debian-packages"


def keeper_score(groups, t: Truth) -> dict:
    """Is the original kept, and is each copy pre-selected as its edits say (a copy with a
    tone or colour edit, alone or with others, is a deliberate edit: no; the rest: yes)?"""
    import dedup_edits as E

    originals = set(t.original.values())
    kept = [g for g in groups if any(m.path in originals for m in g.members)]
    good = [g for g in kept if g.keep in originals]
    damage_ok = damage_n = edit_ok = edit_n = 0
    for g in groups:
        chosen = {m.path for m in g.preselected}
        for m in g.members:
            es = t.edits_of.get(m.path)
            if m.path == g.keep or es is None:
                continue
            if {E.family(e) for e in es} & E.DELIBERATE:
                edit_n += 1
                edit_ok += m.path not in chosen
            else:
                damage_n += 1
                damage_ok += m.path in chosen
    by_origin: dict[str, list[int]] = {}
    for g in kept:
        o = origin(t.source_of[next(m.path for m in g.members if m.path in originals)])
        by_origin.setdefault(o, [0, 0])[0] += g.keep in originals
        by_origin[o][1] += 1
    return {"groups_with_original": len(kept), "original_kept": len(good),
            "share": _ratio(len(good), len(kept)),
            "by_origin": {o: f"{k} of {n}" for o, (k, n) in sorted(by_origin.items())},
            "damage_preselected": f"{damage_ok} of {damage_n}",
            "deliberate_edits_not_preselected": f"{edit_ok} of {edit_n}",
            "wrong_keepers": [(Path(g.keep).name, g.members[0].reasons[0][:100]) for g in kept
                              if g.keep not in originals][:8]}


def phash_run(files: list[str]) -> tuple[set, float]:
    import imagehash

    t = time.monotonic()
    hashes = {p: imagehash.phash(Image.open(p)) for p in files}
    keys = sorted(hashes)
    bits = np.array([h.hash.flatten() for h in (hashes[k] for k in keys)], np.uint8)
    packed = np.packbits(bits, axis=1).view(">u8").ravel()
    pred = set()
    for i in range(len(keys)):  # vectorised Hamming distance, each photo against the rest
        d = np.bitwise_count(np.bitwise_xor(packed[i], packed[i + 1:]))
        pred |= {frozenset((keys[i], keys[i + 1 + j])) for j in np.nonzero(d <= 10)[0]}
    return pred, time.monotonic() - t


def czkawka_runs(folder: Path, t: Truth, levels=(5, 10, 15, 20)) -> dict:
    """czkawka's Rust core (PyPI ``czkawka``) at several similarity levels, each timed as a
    whole run (read, hash, group); the best F1 first."""
    try:
        import czkawka
    except ImportError:
        return {"error": "czkawka is not installed (pip install -c packaging/constraints.txt -e '.[bench]')"}
    runs = {}
    for level in levels:
        finder = czkawka.ImageSimilarity()
        finder.set_directories([folder])
        finder.set_similarity(level)
        t0 = time.monotonic()
        groups = finder.find_similar()
        s = time.monotonic() - t0
        res = score(pairs_of([{str(p) for p in g} for g in groups]), t)
        runs[f"level_{level}"] = {"time_s": round(s, 2), **{k: res[k] for k in (
            "precision", "recall", "f1", "lookalike_in_copy_groups_share", "copy_recall_small_sources")},
            "family_recall_any": {f: v["recall_any"] for f, v in res["per_family"].items()}}
    best = max(runs, key=lambda k: runs[k]["f1"])
    return {"best": best, **runs}


def pairs_mode(t: Truth) -> dict:
    """The verdict alone on every truth pair and look-alike pair."""
    from photofinder.dedup import features, verdict
    from photofinder.dedup.finder import thresholds

    th = thresholds(0.5)
    files = sorted(t.source_of)
    t0 = time.monotonic()
    feats = features.compute_many([(p, p) for p in files], workers=2)
    feat_s = time.monotonic() - t0
    pred, why = set(), {}
    todo = [tuple(pr) for pr in t.copy_pairs()] + [tuple(sorted(pr)) for pr in t.lookalike]
    t0 = time.monotonic()
    kinds: dict = {}
    for a, b in todo:
        fa, fb = feats.get(a), feats.get(b)
        if fa is None or fb is None:
            continue
        v = verdict.judge(fa, fb, th, mirror_hint=True)
        kinds[v.kind.value] = kinds.get(v.kind.value, 0) + 1
        if v.kind is verdict.Kind.COPY:
            pred.add(frozenset((a, b)))
        why[frozenset((a, b))] = v.why
    res = score(pred, t)
    res.pop("precision")  # only truth and look-alike pairs were judged: not a precision
    # only (original, copy) pairs were judged, never copy against copy: recall over those
    # (score's recall and F1 count every pair of a source's files, most never judged here)
    res.pop("f1")
    judged = [frozenset(pq) for pq in t.copy_pairs()]
    res["recall"] = _ratio(sum(pq in pred for pq in judged), len(judged))
    for fam in res["per_family"].values():  # no pair of two sources was judged: 1.0 by construction
        fam.pop("precision")
    res["verdicts"] = kinds
    res["missed"] = sorted(f"{Path(q).name}: {why.get(frozenset((o, q)), '?')[:90]}"
                           for o, q in t.copy_pairs() if frozenset((o, q)) not in pred)[:40]
    res["lookalikes_judged_copies"] = sorted(" ~ ".join(Path(x).name for x in pr)
                                             for pr in t.lookalike if pr in pred)[:20]
    res["time_s"] = {"features": round(feat_s, 2), "verdicts": round(time.monotonic() - t0, 2),
                     "pairs": len(todo)}
    return res


def main() -> None:
    args = sys.argv[1:]
    if asks_help(args, __doc__):
        return
    photos = pop_option(args, "--photos")
    max_scenes = int(pop_option(args, "--max-scenes", 100))
    copies = tuple(int(x) for x in pop_option(args, "--copies", "4,2,2").split(","))
    fams = pop_option(args, "--families")
    families = fams.split(",") if fams else None
    small_every = int(pop_option(args, "--small-every", 6))
    pairs_only = _flag(args, "--pairs")
    reuse = _flag(args, "--reuse")
    keeper_only = _flag(args, "--keeper")
    hold_out = pop_option(args, "--hold-out")
    work = Path(args[0] if args else tempfile.mkdtemp(prefix="pf-dupq-"))
    folder = work / "photos"
    saved = work / "truth.json"
    if reuse and saved.exists():
        t = Truth.from_json(json.loads(saved.read_text()))
        info = json.loads((work / "set.json").read_text())
    else:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        sources, views, dropped = real_sources(Path(photos) if photos else None, max_scenes, small_every)
        t = make_set(folder, sources, views, copies, families)
        info = {"sources": len(sources),
                "origins": {"scikit-image": sum(n in SKIMAGE for n in sources),
                            "holidays": sum(n.startswith("h") and n[1:].isdigit() for n in sources),
                            "debian-packages": sum(n.startswith("wp-") for n in sources)},
                "sources_left_out_as_copies": dropped}
        saved.write_text(json.dumps(t.to_json()))
        (work / "set.json").write_text(json.dumps(info))
    if hold_out:  # the copies with an edit of this family are left out of the scores
        t = t.without(hold_out)
    out: dict = {"files": len(t.source_of), **info, "held_out": hold_out,
                 "sources_at_most_200px": len(t.small),
                 "copies": len(t.edits_of), "families": families or "all",
                 "lookalike_pairs": {k: sum(v == k for v in t.lookalike.values())
                                     for k in sorted(set(t.lookalike.values()))},
                 "machine": "2 cores shared with other sessions: timings are noisy"}
    if pairs_only:
        out["verdicts_on_pairs"] = pairs_mode(t)
        print(json.dumps(out, indent=2))
        return
    from photofinder.library import Library

    if keeper_only:  # the library of an earlier run as it is: groups and keepers only
        with Library(work / "lib") as lib:
            t0 = time.monotonic()
            found = lib.find_duplicates()
            out["keeper"] = keeper_score(found.groups, t)
            pred = pairs_of([{m.path for m in g.members} for g in found.groups])
            shots = pairs_of([{m.path for m in g.members} for g in found.similar_shots])
            res = score(pred, t)
            out["copy_groups"] = {k: res[k] for k in ("precision", "recall", "f1")}
            out["copy_groups"]["lookalike_in_similar_shots"] = sum(p in shots for p in t.lookalike)
            out["time_s"] = {"duplicates_on_indexed_library": round(time.monotonic() - t0, 2)}
        print(json.dumps(out, indent=2))
        return
    with Library(work / "lib") as lib:
        lib.add_folder(folder)
        lib.scan()
        t0 = time.monotonic()
        lib.index_pending()
        index_s = time.monotonic() - t0
        check: dict = {}
        t0 = time.monotonic()
        lib.check_duplicates(stats=check)  # as indexing ends: every candidate pair, from scratch
        check_s = time.monotonic() - t0
        runs = []
        for _ in range(2):  # then ``duplicates``, as a user runs it
            stats: dict = {}
            t0 = time.monotonic()
            found = lib.find_duplicates(stats=stats)
            runs.append((time.monotonic() - t0, stats))
        pred = pairs_of([{m.path for m in g.members} for g in found.groups])
        shots = pairs_of([{m.path for m in g.members} for g in found.similar_shots])
        res = score(pred, t)
        res["lookalike_in_similar_shots"] = sum(pr in shots for pr in t.lookalike)
        res["copy_pairs_in_similar_shots"] = len(t.pairs & shots)
        res["keeper"] = keeper_score(found.groups, t)
        res["false_pairs"] = sorted(" ~ ".join(sorted(Path(x).name for x in p)) for p in pred - t.pairs)[:10]
        seen = {m.path for g in found.groups + found.similar_shots for m in g.members}
        res["copies_nowhere"] = sum(1 for q in t.edits_of if q not in seen)
        res["missed"] = sorted(" ~ ".join(sorted(Path(x).name for x in p)) for p in t.pairs - pred)[:10]
        out["photofinder"] = res
        out["photofinder_stats_check"] = check
        out["photofinder_stats_duplicates_run"] = runs[0][1]
    ph_pred, ph_s = phash_run(sorted(t.source_of))
    out["phash_hamming_le_10"] = score(ph_pred, t)
    out["czkawka"] = czkawka_runs(folder, t)
    out["time_s"] = {"indexing": round(index_s, 2),
                     "check_as_indexing_ends": round(check_s, 2),
                     "duplicates_on_indexed_library": round(runs[0][0], 2),
                     "duplicates_again": round(runs[1][0], 2),
                     "phash_whole_run": round(ph_s, 2),
                     "ratio_duplicates_to_phash": round(runs[0][0] / ph_s, 3),
                     "ratio_check_to_phash": round(check_s / ph_s, 2)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
