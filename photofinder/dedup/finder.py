"""Duplicates: exact and edited copies, the copy to keep and why; similar shots apart.

The service ``Library`` calls (Qt-free; functions take the catalogue and the index they work
on, never the Library):

- ``find(catalog, index, sensitivity=0.5, verify=True, rules=None, stats=None, progress=None,
  stop=None) -> Findings``: ``groups`` (copies: the same picture, edited or not) and
  ``similar_shots`` (bursts, other views: never offered for the trash), best first.
  ``sensitivity`` in [0, 1]: higher finds more (looser).
  ``verify=False`` skips the strict check (measuring only; groups bursts as copies).
  ``stop`` (a threading.Event): set, the check ends after the pairs in hand, keeps their
  verdicts and returns None (the next run goes on from there).
- ``choose_keeper(catalog, path)``: the user's choice, by PATH, remembered.
- ``get_rules(catalog) / set_rules(catalog, Rules)``: keeper rule order, preferred folders.
- ``mark_not_duplicates(catalog, path_a, path_b)``: remembered (by content hash); the pair
  never shares a group again, whatever the sensitivity.
- clean-up (trash with a write-ahead journal, undo) lives in dedup/cleanup.py; stored
  results in dedup/results.py.
``Library.update`` (and the GUI's indexer) run ``find`` at the default sensitivity as
indexing ends, so a user's run finds the new photos' pairs checked already.

How (nothing compares all against all, nothing per pair that can be done once per photo):
1. exact: same content hash (one node); paths that are one file (hard links) are one copy.
2. candidates (candidates.py): CNN range search in the HNSW index + rotated/mirrored copies
   by hashing the pixel signatures in all eight orientations; only for photos not searched
   before under the same model, sensitivity and method.
3. features (features.py): ORB keypoints and a small grey picture, once per candidate photo,
   cached in the catalogue by content hash; the indexer makes them from the picture it
   decodes anyway for the photos with a near neighbour, so most are read from there.
4. the verdict (verdict.py: every rule in one place) on each pair never checked before:
   lined up (verify.align), nothing moved: a copy; moved, perspective: another shot; or
   unrelated. This module only schedules the pairs (and reads the capture times the
   verdict's capture-time rule asks for). Every verdict is stored, so the next run checks
   new pairs only.
5. groups (groups.py): union-find over copy edges (never joining a "not duplicates" pair),
   the keeper by the rules (keeper.py), similar shots apart (average linkage: no chains).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, cast

from threadpoolctl import threadpool_limits

from photofinder.dedup import candidates, clustering, features, groups, results
from photofinder.dedup import signature as S
from photofinder.dedup import verdict as D
from photofinder.dedup import verify as V
from photofinder.dedup.verdict import Kind
from photofinder.dedup.cleanup import CleanupError
from photofinder.dedup.keeper import Rules
from photofinder.dedup.findings import Findings, Group, Member
from photofinder.pixels import imaging
from photofinder.pixels.embedding import preprocess
from photofinder.store.catalog import Catalog
from photofinder.store.dedup import PairVerdict
from photofinder.store.index import VectorIndex
from photofinder.store.records import Photo

DEFAULT_SENSITIVITY = 0.5
# v4: the verdict of issue 20 (nothing moved: a copy; tone, noise, overlays are edits);
# v5: which side of a pair has the damage (an overlay's edges, grain: verdict._damage),
# read by the keeper and the trash's pre-selection; v6: the look edit (deliberate, never
# pre-selected) measured with the colour cells lined up centre on centre, black and white
# only against a colourful side, a saturation change a colour edit; v7: a flat pair lined up
# as whole pictures (no keypoints agreed) is no copy: too flat to tell (verdict.rule_still).
# Verdicts and results stored under another method are never read: judged again.
METHOD = f"v7.f{features.VERSION}"
CHUNK = 4  # pairs per worker in flight; each skip is decided on the verdicts taken back
# where a pair found by its turned pixel signature alone (no CNN cosine) comes in the order:
# after the near ones, so a group's plain members are tried before its turned ones
TURNED_RANK = 0.85
UNRELATED_STRIKES = 3  # pairs of two copy groups found unrelated before the rest are skipped
# pairs of two copy groups found other shots before the rest are skipped: one is not enough
# (a copy judged "moved", or a burst frame that joined a copy's group, hid the original)
SIMILAR_TRIES = 2
APART = "kept apart from the copies: it moved against one of them (another shot)"
WORKERS = max(1, min(4, os.cpu_count() or 1))  # threads that judge pairs
# the candidate stage's own version, in the key of the "searched" marks only (the verdicts
# stored stay valid): photos searched under an older one are searched again. 2: thumbnails
# take part (signature.MIN_LONG_SIDE, MIN_SHORT_SIDE; they were marked searched, unsearched);
# 3: a photo with no near neighbour pairs with its nearest (candidates.py); 4: near hits whose
# pixel hashes agree (candidates.NEAR_K, NEAR_BITS); 5: coarse look-alikes (candidates.
# COARSE_K, COARSE_CORR), and a thumbnail's copy pairs join no groups for the skips (its
# pairs skipped before, with its original's group, are checked)
SEARCH = 5
__all__ = ["Group", "Member", "Findings", "Rules", "find", "choose_keeper",
           "get_rules", "set_rules", "mark_not_duplicates", "thresholds", "CleanupError"]
Progress = Callable[[str, int, int], None]


def thresholds(sensitivity: float) -> dict:
    """Thresholds for a sensitivity in [0, 1]: ``cosine``, the CNN's, from which two photos
    are a candidate pair; ``grey_cosine``: a photo without colour and its nearest in colour,
    and a photo with no photo at ``cosine`` and its nearest, are a pair from here
    (candidates.py); ``near_cosine``: one of a photo's first hits below ``cosine`` is a pair
    from here when the pixel signatures' hashes agree (candidates.py); ``pixels``: how well
    a flat pair (too little
    texture to place) agrees overall to be a copy; ``similar_cosine``: a pair that does not
    line up is still a similar shot from here. The verdict's own rules (verdict.py) are the
    same at every sensitivity: what moved is not a matter of taste."""
    s = min(1.0, max(0.0, float(sensitivity)))
    return {"cosine": round(0.82 - 0.2 * s, 4), "grey_cosine": round(0.65 - 0.2 * s, 4),
            "near_cosine": round(0.55 - 0.2 * s, 4),
            "pixels": round(0.95 - 0.1 * s, 4),
            "similar_cosine": 0.88, "hash_bits": 6}


def params_key(model: str, sensitivity: float) -> str:
    """What a stored verdict or result was made under; anything else is never trusted."""
    return f"{model}|s={float(sensitivity):.3f}|{METHOD}"


# -- settings ---------------------------------------------------------------------------------
def get_rules(catalog: Catalog) -> Rules:
    raw = catalog.meta.get("keeper_rules")
    return Rules.from_dict(json.loads(raw) if raw else None)


def set_rules(catalog: Catalog, rules: Rules) -> None:
    catalog.meta.set("keeper_rules", json.dumps(rules.to_dict()))


def _photo(catalog: Catalog, path: str) -> Photo:
    p = os.path.abspath(path)
    row = catalog.photos.by_path(p) or catalog.photos.by_path(os.path.realpath(p))
    if row is None or not row.hash:
        raise CleanupError(f"not an indexed photo of this library: {p}")
    return row


def choose_keeper(catalog: Catalog, path: str) -> None:
    """Keep exactly this file (by path) in its group, remembered."""
    catalog.dedup.set_keeper_path(_photo(catalog, path).path)


def mark_not_duplicates(catalog: Catalog, path_a: str, path_b: str) -> None:
    a, b = _photo(catalog, path_a).hash, _photo(catalog, path_b).hash
    if a == b:
        raise CleanupError("these two files are byte-identical copies; they are duplicates")
    catalog.dedup.add_not_duplicates(cast(str, a), cast(str, b))  # (_photo: hashed)


def _looks(catalog: Catalog, th: dict, asks: list[tuple[str, str]]) -> dict:
    """(keeper, copy) -> the look edit of each pair judged directly from the cached features
    of the check (groups._edits asks for the copies whose look the checked pairs cannot
    tell): the verdict's edit, "" for none, when they are copies; else None. Not stored: a
    verdict other than copy here would part the group on the next run."""
    blobs = catalog.dedup.features(sorted({h for pair in asks for h in pair}), features.VERSION)
    feats = {h: features.Features.from_blob(b) for h, b in blobs.items()}

    def one(pair: tuple[str, str]) -> str | None:
        fa, fb = feats.get(pair[0]), feats.get(pair[1])
        if fa is None or fb is None:
            return None
        v = D.judge(fa, fb, th, mirror_hint=True)
        return (v.edit or "") if v.kind is Kind.COPY else None
    with ThreadPoolExecutor(WORKERS) as pool:  # OpenCV and numpy release the GIL
        return dict(zip(asks, pool.map(one, asks)))


def _fill_missing_signatures(catalog: Catalog) -> int:
    """Photos indexed before signatures existed get one now (decoded once, stored)."""
    done = 0
    for photo_id, path in catalog.signatures.missing():
        try:
            decoded = imaging.decode(imaging.read_bytes(path), need=preprocess.LONG_SIDE)
        except (imaging.ImageError, OSError):
            continue
        catalog.signatures.set(photo_id, S.compute(decoded.image), S.colourfulness(decoded.image))
        done += 1
    return done


# -- finding ------------------------------------------------------------------------------------
def find(catalog: Catalog, index: VectorIndex, sensitivity: float = DEFAULT_SENSITIVITY,
         verify: bool = True, rules: Rules | None = None, stats: dict | None = None,
         progress: Progress | None = None, stop: threading.Event | None = None
         ) -> Findings | None:
    """Copy groups and similar shots (see the module docstring); stored for next time.
    ``stats``, if given, gets counts and stage timings for benchmarks. None: ``stop`` was
    set before the check was through (the verdicts made are kept)."""
    # hnswlib's threads and the check's workers use every core; OpenBLAS's own threads, woken
    # by each chunk's projection, would spin-wait beside them (at 100k photos, 2.3 s of a
    # 5.5 s HNSW search). One BLAS thread here, as long as the run lasts.
    with threadpool_limits(limits=1, user_api="blas"):
        return _find(catalog, index, sensitivity, verify, rules, stats, progress, stop)


def _find(catalog, index, sensitivity, verify, rules, stats, progress, stop) -> Findings | None:
    t0 = time.monotonic()
    th = thresholds(sensitivity)
    rules = rules or get_rules(catalog)
    stats = stats if stats is not None else {}
    say = progress or (lambda stage, done, total: None)
    params = params_key(index.model, sensitivity)
    _fill_missing_signatures(catalog)
    nodes = catalog.dedup.nodes()
    node_of_photo = {n.photo_id: n.hash for n in nodes}
    photo_of_label = {n.label: n.photo_id for n in nodes if n.label is not None}
    by_hash: dict[str, list[int]] = {}
    for n in nodes:
        by_hash.setdefault(n.hash, []).append(n.photo_id)
    live = set(by_hash)
    vetoed = catalog.dedup.not_duplicate_pairs()
    small = catalog.photos.smaller_than(S.MIN_LONG_SIDE, S.MIN_SHORT_SIDE)
    searched_key = f"{params}|c{SEARCH}"
    searched = catalog.dedup.searched(searched_key) & live if verify else set()
    todo = (live - searched) if searched else None  # None: every photo
    say("candidates", 0, 1)
    cand = candidates.find(catalog, index, node_of_photo, photo_of_label, todo, th["cosine"],
                           th["hash_bits"], small, th["grey_cosine"], th["near_cosine"])
    stats.update(photos=len(node_of_photo), searched_before=len(searched), candidates=len(cand),
                 candidates_s=round(time.monotonic() - t0, 3))
    if verify:
        known = {(v.hash_a, v.hash_b): v for v in catalog.dedup.verdicts(params, live)}
        tiny = _tiny(catalog, by_hash)
        new = _check(catalog, cand, known, vetoed, th, by_hash, tiny, stats, say, stop)
        catalog.dedup.add_verdicts(params, new)
        if stop is not None and stop.is_set():
            return None  # not every candidate pair has its verdict: nothing marked searched
        catalog.dedup.add_searched(searched_key, sorted(todo if todo is not None else live))
        for v in new:
            known[(v.hash_a, v.hash_b)] = v
        copy_edges, similar_edges = [], []
        moved: set[frozenset] = set()  # pairs that are surely other shots (content moved)
        for v in known.values():
            if frozenset((v.hash_a, v.hash_b)) in vetoed:
                continue
            e = (v.hash_a, v.hash_b, v.score, v.why, V.Geometry.from_blob(v.geometry))
            if v.kind == Kind.COPY:
                copy_edges.append(e)
            elif v.kind == Kind.SIMILAR:
                similar_edges.append(e)
                if not v.tentative:
                    moved.add(frozenset((v.hash_a, v.hash_b)))
        # a photo in a copy group by one copy pair alone, while it moved against another of
        # the group: that copy verdict is the doubtful one; it is a similar shot instead
        apart = clustering.contradicted(copy_edges, moved)
        if apart:
            similar_edges += [(a, b, s, f"{why}; {APART}", None) for a, b, s, why, _ in copy_edges
                              if a in apart or b in apart]
            copy_edges = [e for e in copy_edges if e[0] not in apart and e[1] not in apart]
        stats.update(kept_apart=len(apart))
    else:
        copy_edges = [(a, b, c.cosine or 0.0, f"looks alike {c.cosine or 0:.2f} (not checked)", None)
                      for (a, b), c in cand.items() if frozenset((a, b)) not in vetoed]
        similar_edges = []
        tiny, moved = set(), set()
    t = time.monotonic()
    looks = (lambda asks: _looks(catalog, th, asks)) if verify else None
    copy = groups.copy_groups(catalog, copy_edges, by_hash, vetoed, rules, catalog.dedup.keeper_paths(),
                              looks, tiny, moved)
    similar = groups.similar_groups(catalog, similar_edges, copy, by_hash, vetoed)
    stats.update(copy_groups=len(copy), similar_shots=len(similar),
                 groups_s=round(time.monotonic() - t, 3), total_s=round(time.monotonic() - t0, 3))
    found = Findings(copy, similar, True, time.time(), stats)
    if verify:
        results.save(catalog, params, found)
    return found


def _check(catalog: Catalog, cand: dict, known: dict, vetoed: set, th: dict, by_hash: dict,
           tiny: set[str], stats: dict, say: Progress, stop: threading.Event | None = None
           ) -> list[PairVerdict]:
    """Verdicts on the candidate pairs never checked before (until ``stop`` is set)."""
    t = time.monotonic()
    todo = [(k, c) for k, c in cand.items() if k not in known and frozenset(k) not in vetoed]
    # strongest first; a pair already joined through checked copies needs no check of its own
    todo.sort(key=lambda kc: -(kc[1].cosine or TURNED_RANK))
    # what one pair of two copy groups was found to be, the other pairs between them are too:
    # a burst frame found another shot of one copy is that of its other copies, and a copy
    # group found unrelated to another stays so (a copy of each would be a copy of both)
    # (after a few tries: one failed pair may be one edit that does not line up with another)
    # (what earlier runs found counts as it did there: a tentative "similar" is a strike)
    # (a copy verdict with a thumbnail joins no groups here: too few pixels to see a view
    # shift, a thumbnail is a "copy" of a tripod pan of its original as much as of the
    # original, and the pan's group, found another shot of the original's, would hide the
    # thumbnail's pair with its original; its pairs are each checked, and groups.py sorts
    # out who is a copy of whom)
    rel = clustering.Relations([(v.hash_a, v.hash_b) for v in known.values()
                                if v.kind == Kind.COPY and (v.hash_a in tiny) == (v.hash_b in tiny)],
                               similar_tries=SIMILAR_TRIES)
    for v in known.values():
        if v.kind == Kind.SIMILAR and not v.tentative:
            rel.add_similar(v.hash_a, v.hash_b)
    rel.add_known_strikes((v.hash_a, v.hash_b) for v in known.values()
                          if v.kind != Kind.COPY and (v.kind != Kind.SIMILAR or v.tentative))
    need = sorted({h for k, _ in todo for h in k})
    feats = load_features(catalog, need, by_hash, say, stats)
    stats.update(features=len(need), features_s=round(time.monotonic() - t, 3))
    photo_of = {r.hash: r for r in catalog.photos.by_ids(by_hash[h][0] for h in need).values()}
    taken: dict[str, str | None] = {}

    def shot_at(h: str) -> str | None:
        """The capture time (EXIF DateTimeOriginal: the catalogue's taken_at may be a
        re-save's DateTime), read only for the copies that have a time to compare."""
        r = photo_of.get(h)
        if r is None or not r.taken_at:
            return None
        if h not in taken:
            taken[h] = imaging.capture_time(r.path)
        return taken[h]
    t = time.monotonic()
    out = []
    n_copy = n_similar = 0

    def one(job):
        (ha, hb), c = job
        return D.judge(feats[ha], feats[hb], th, c.cosine, c.mirror_hint, c.rotation)
    with ThreadPoolExecutor(WORKERS) as pool:  # OpenCV and numpy release the GIL
        # a window of pairs in flight, taken back in order: the workers never wait for a
        # round to end, and each pair sent is decided on every verdict taken back before
        # it (the same decisions whatever the timing)
        window = CHUNK * WORKERS
        flight: deque = deque()
        nxt = 0

        def send() -> None:
            nonlocal nxt
            while len(flight) < window and nxt < len(todo) and not (stop and stop.is_set()):
                (ha, hb), c = job = todo[nxt]
                nxt += 1
                if nxt % 50 == 0:
                    say("checking", nxt, len(todo))
                skip = ("skipped_joined" if rel.same(ha, hb) else "skipped_similar"
                        if rel.similar(ha, hb) else "skipped_unrelated"
                        if rel.strikes(ha, hb) >= UNRELATED_STRIKES else None)
                if skip:
                    stats[skip] = stats.get(skip, 0) + 1
                    continue
                if feats.get(ha) is None or feats.get(hb) is None:
                    continue  # unreadable now (offline?): checked again next time
                flight.append((job, pool.submit(one, job)))
        say("checking", 0, len(todo))
        send()
        while flight:
            ((ha, hb), c), done = flight.popleft()
            v = done.result()
            if v.kind is Kind.COPY:  # the capture-time rule: read only for copies
                v = D.rule_capture_time(v, shot_at(ha), shot_at(hb))
            geo = V.geometry(feats[ha], feats[hb], v)
            if v.kind is Kind.COPY:
                if (ha in tiny) == (hb in tiny):
                    rel.join(ha, hb)
            elif v.kind is Kind.SIMILAR and not v.tentative:
                rel.add_similar(ha, hb)
            else:
                rel.add_strike(ha, hb)
            n_copy += v.kind is Kind.COPY
            n_similar += v.kind is Kind.SIMILAR
            out.append(PairVerdict(ha, hb, v.kind.value, float(v.score), v.why,
                                   geo.to_blob() if geo else None,
                                   v.kind is Kind.SIMILAR and v.tentative))
            send()
    say("checking", len(todo), len(todo))
    stats.update(checked=len(out), copies=n_copy, similar=n_similar,
                 rejected=len(out) - n_copy - n_similar, verify_s=round(time.monotonic() - t, 3))
    return out


def _tiny(catalog: Catalog, by_hash: dict) -> set[str]:
    """Hashes whose photos are all under features.SMALL px on their long side."""
    ids = catalog.photos.smaller_than(features.SMALL, 0)
    return {h for h, photos in by_hash.items() if all(p in ids for p in photos)} if ids else set()


def load_features(catalog: Catalog, hashes: list[str], by_hash: dict,
                  say: Progress | None = None, stats: dict | None = None
                  ) -> dict[str, features.Features]:
    """Features of these content hashes: from the catalogue (the indexer keeps them for
    photos with a near neighbour), else computed (once) from one of the hash's files and
    stored. ``stats["features_read"]``: how many were read from files."""
    out: dict[str, features.Features] = {}
    if stats is not None:
        stats["features_read"] = 0
    for h, blob in catalog.dedup.features(hashes, features.VERSION).items():
        f = features.Features.from_blob(blob)
        if f is not None:
            out[h] = f
    missing = [h for h in hashes if h not in out]
    if not missing:
        return out
    rows = catalog.photos.by_ids(by_hash[h][0] for h in missing if by_hash.get(h))
    path_of = {r.hash: r.path for r in rows.values()}
    jobs = [(h, path_of[h]) for h in missing if h in path_of]
    total = len(jobs)
    if stats is not None:
        stats["features_read"] = total
    got = features.compute_many(jobs, workers=WORKERS,
                                progress=(lambda i: say("reading photos", i, total)
                                          if say and i % 20 == 0 else None))
    fresh = {h: f for h, f in got.items() if f is not None}
    if fresh:
        catalog.dedup.set_features({h: f.to_blob() for h, f in fresh.items()}, features.VERSION)
    out.update(fresh)
    return out


def stored(catalog: Catalog, model: str, sensitivity: float = DEFAULT_SENSITIVITY
           ) -> Findings | None:
    """The last results, when made under the same model, sensitivity and method; groups with
    a member changed since (size, mtime or hash) are left out and ``fresh`` is False."""
    return results.load(catalog, params_key(model, sensitivity))

