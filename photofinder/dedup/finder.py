"""Duplicates: exact and edited copies, the copy to keep and why, clean-up with undo.

The service ``Library`` calls (Qt-free; functions take the catalogue and the index they work
on, never the Library):

- ``find_groups(catalog, index, sensitivity=0.5, verify=True, rules=None) -> list[Group]``:
  groups best first. ``Group.keep`` (path) and ``Group.members`` (``Member``: path, kind
  "exact"|"near", score, reasons; the keeper is a member too); ``Group.to_json()`` gives the
  CLI contract's shape. ``sensitivity`` in [0, 1]: higher finds more (looser), lower fewer.
  ``verify=False`` skips the strict pixel check (measuring only; groups bursts).
- ``choose_keeper(catalog, path)``: the user's override: keep this copy in its group, remembered.
- ``get_rules(catalog) / set_rules(catalog, Rules)``: keeper rule order and preferred folders.
- clean-up (trash with a write-ahead journal, undo) lives in dedup/cleanup.py.
- ``mark_not_duplicates(catalog, path_a, path_b)``: remembered forever (by content hash), the
  pair never shares a group again, whatever the sensitivity.

How copies are found (nothing compares all against all):
1. exact: same content hash; paths that are one file (hard links) count as one copy.
2. near: a range search per photo in the HNSW index of CNN embeddings (cosine >= a
   threshold set by the sensitivity), plus rotated/mirrored copies found by hashing the
   photos' pixel signatures in all eight orientations (dedup/signature.py), since the CNN
   embedding is not rotation-invariant.
3. strict check on every candidate pair: the pixel signatures must line up (any of eight
   orientations, crop search) or, failing that, local features must fit one similarity
   transform and the warped pixels agree (dedup/align.py). Other shots of a scene fail it.
4. grouping: union-find over checked pairs, strongest first, never joining a pair the user
   marked "not duplicates".
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field

import numpy as np

from photofinder.pixels import imaging
from photofinder.dedup import align, grouping, keeper
from photofinder.dedup import signature as S
from photofinder.dedup.cleanup import CleanupError
from photofinder.dedup.keeper import Rules
from photofinder.pixels.embedding import preprocess
from photofinder.store.catalog import Catalog
from photofinder.store.index import VectorIndex
from photofinder.store.records import Photo

DEFAULT_SENSITIVITY = 0.5
__all__ = ["Group", "Member", "Rules", "find_groups", "choose_keeper",
           "get_rules", "set_rules", "mark_not_duplicates", "thresholds", "CleanupError"]


def thresholds(sensitivity: float) -> dict:
    """The calibrated thresholds for a sensitivity in [0, 1] (benchmarks/duplicates_quality.py
    measured them: edited copies score >= 0.77 in cosine and >= 0.9 in pixel agreement,
    the best unrelated pair 0.57 in cosine)."""
    s = min(1.0, max(0.0, float(sensitivity)))
    return {"cosine": round(0.85 - 0.2 * s, 4), "pixels": round(0.95 - 0.1 * s, 4),
            "rotation_pixels": round(max(0.95 - 0.1 * s, 0.92), 4), "hash_bits": 6}


@dataclass
class Member:
    path: str
    kind: str  # "exact" (same bytes as the keeper) or "near"
    score: float
    reasons: list[str]
    photo_id: int
    hash: str
    also: list[str] = field(default_factory=list)  # other paths of the same file (hard links)
    size: int | None = None  # the file as it was judged: checked again before any move
    mtime_ns: int | None = None

    def to_json(self) -> dict:
        return {"path": self.path, "kind": self.kind, "score": round(float(self.score), 6),
                "reasons": self.reasons}


@dataclass
class Group:
    keep: str
    members: list[Member]

    def to_json(self) -> dict:
        return {"keep": self.keep, "members": [m.to_json() for m in self.members]}

    @property
    def others(self) -> list[Member]:
        return [m for m in self.members if m.path != self.keep]


# -- settings ---------------------------------------------------------------------------------
def get_rules(catalog: Catalog) -> Rules:
    raw = catalog.get_meta("keeper_rules")
    return Rules.from_dict(json.loads(raw) if raw else None)


def set_rules(catalog: Catalog, rules: Rules) -> None:
    catalog.set_meta("keeper_rules", json.dumps(rules.to_dict()))


def _photo(catalog: Catalog, path: str) -> Photo:
    p = os.path.abspath(path)
    row = catalog.photo_by_path(p) or catalog.photo_by_path(os.path.realpath(p))
    if row is None or not row.hash:
        raise CleanupError(f"not an indexed photo of this library: {p}")
    return row


def choose_keeper(catalog: Catalog, path: str) -> None:
    catalog.set_keeper_choice(_photo(catalog, path).hash)


def mark_not_duplicates(catalog: Catalog, path_a: str, path_b: str) -> None:
    a, b = _photo(catalog, path_a).hash, _photo(catalog, path_b).hash
    if a == b:
        raise CleanupError("these two files are byte-identical copies; they are duplicates")
    catalog.add_not_duplicates(a, b)


# -- signatures -------------------------------------------------------------------------------
def _fill_missing_signatures(catalog: Catalog) -> int:
    """Photos indexed before signatures existed get one now (decoded once, stored)."""
    done = 0
    for photo_id, path in catalog.photos_without_signature():
        try:
            decoded = imaging.decode(imaging.read_bytes(path), need=preprocess.LONG_SIDE)
        except imaging.ImageError:
            continue
        catalog.set_signature(photo_id, S.compute(decoded.image))
        done += 1
    return done


def _signature_hashes(catalog: Catalog) -> tuple[np.ndarray, np.ndarray]:
    """(photo ids, (n, 8) dihedral hashes) of every usable signature, read in chunks."""
    ids, hashes = [], []
    for rows in catalog.signatures(S.MIN_PIXELS_SIDE):
        sigs = np.stack([np.frombuffer(r[1], np.uint8) for r in rows])
        ok = sigs.reshape(len(sigs), -1).astype(np.float32).std(axis=1) >= S.MIN_CONTRAST
        if not ok.any():
            continue
        ids.append(np.array([r[0] for r in rows], np.int64)[ok])
        hashes.append(S.dihedral_hashes(sigs[ok]))
    if not ids:
        return np.empty(0, np.int64), np.empty((0, 8), np.uint64)
    return np.concatenate(ids), np.concatenate(hashes)


# -- finding ------------------------------------------------------------------------------------
def find_groups(catalog: Catalog, index: VectorIndex, sensitivity: float = DEFAULT_SENSITIVITY, verify: bool = True,
                rules: Rules | None = None, stats: dict | None = None) -> list[Group]:
    """Duplicate groups (see the module docstring). ``stats``, if given, is filled with
    counts (candidates, checked, rejected) for benchmarks."""
    th = thresholds(sensitivity)
    rules = rules or get_rules(catalog)
    stats = stats if stats is not None else {}
    _fill_missing_signatures(catalog)
    # one node per content hash
    nodes = catalog.dedup_nodes()
    node_of_photo = {n.photo_id: n.hash for n in nodes}
    photo_of_label = {n.label: n.photo_id for n in nodes if n.label is not None}
    by_hash: dict[str, list[int]] = {}
    for n in nodes:
        by_hash.setdefault(n.hash, []).append(n.photo_id)
    vetoed = catalog.not_duplicate_pairs()
    small = catalog.small_photo_ids(S.MIN_PIXELS_SIDE)

    # candidates: CNN range search + dihedral hashing
    cand: dict[tuple[str, str], dict] = {}
    labels = sorted(index.live)

    def vectors(chunk_labels):
        got = dict(catalog.vectors(chunk_labels))
        return np.stack([np.frombuffer(got[l], np.float16) for l in chunk_labels]).astype(np.float32)
    for la, lb, sim in grouping.cnn_pairs(labels, vectors, index.search_many, th["cosine"]):
        pa, pb = photo_of_label.get(la), photo_of_label.get(lb)
        if pa is None or pb is None or pa in small or pb in small:
            continue
        ha, hb = node_of_photo[pa], node_of_photo[pb]
        if ha != hb:
            key = (ha, hb) if ha < hb else (hb, ha)
            c = cand.setdefault(key, {"pa": pa, "pb": pb})
            c["cosine"] = max(c.get("cosine", 0.0), sim)
    ids, hashes = _signature_hashes(catalog)
    for (pa, pb), g in grouping.dihedral_pairs(ids, hashes, th["hash_bits"]).items():
        ha, hb = node_of_photo.get(pa), node_of_photo.get(pb)
        if ha and hb and ha != hb:
            key = (ha, hb) if ha < hb else (hb, ha)
            cand.setdefault(key, {"pa": pa, "pb": pb})["rotation"] = True
    stats.update(candidates=len(cand), checked=0, rejected=0, by_features=0)

    # strict check
    edges = []
    info: dict[tuple[str, str], str] = {}
    for key, c in cand.items():
        if frozenset(key) in vetoed:
            continue
        score, why = _check(catalog, c, th, verify, stats)
        if score is None:
            stats["rejected"] += 1
            continue
        edges.append((key[0], key[1], score))
        info[key] = why
    groups_nodes = grouping.constrained_groups(edges, vetoed)
    exact_only = [{h} for h, pids in by_hash.items() if len(pids) > 1
                  and not any(h in g for g in groups_nodes)]
    choices = catalog.keeper_choices()
    out = []
    for group_nodes in groups_nodes + exact_only:
        g = _build_group(catalog, group_nodes, by_hash, edges, info, rules, choices)
        if g is not None:
            out.append(g)
    out.sort(key=lambda g: (-len(g.members), g.keep))
    return out


def _check(catalog: Catalog, c: dict, th: dict, verify: bool, stats: dict) -> tuple[float | None, str]:
    """(edge score or None when rejected, a reason)."""
    a, b = catalog.signature_info(c["pa"]), catalog.signature_info(c["pb"])
    cos = c.get("cosine")
    look = f"looks alike {cos:.2f}" if cos is not None else "same picture in another orientation"
    if a is None or b is None or a.sig is None or b.sig is None:
        ok = cos is not None and (not verify or cos >= 0.95)
        return (cos if ok else None), f"{look} (no pixel signature)"
    stats["checked"] += 1
    if cos is None:  # found by the rotation hash: the pixels must line up as they are
        s, g = S.agreement(a.sig, (a.width, a.height), b.sig, (b.width, b.height), crops=False)
        if s >= th["rotation_pixels"]:
            return s, f"{look}: {S.NAMES[g]}, pixels agree {s:.2f}"
        return None, ""
    if not verify:
        return cos, look
    s, g = S.agreement(a.sig, (a.width, a.height), b.sig, (b.width, b.height), enough=th["pixels"])
    if s >= th["pixels"]:
        return s, f"{look}, pixels agree {s:.2f}" + (f" ({S.NAMES[g]})" if g else "")
    stats["by_features"] += 1
    s2 = align.files_agreement(a.path, b.path)
    if s2 >= th["pixels"]:
        return s2, f"{look}, pixels agree {s2:.2f} after aligning (turned or shifted copy)"
    return None, ""


def _build_group(catalog: Catalog, nodes: set, by_hash: dict, edges, info, rules: Rules, choices: dict
                 ) -> Group | None:
    found = catalog.photos(pid for h in nodes for pid in by_hash.get(h, []))
    # the keeper rules read and annotate plain dicts (keeper.py)
    rows = [dataclasses.asdict(r) for r in found.values()]
    # hard links / one file under two paths: one copy
    files: dict[tuple, dict] = {}
    for r in sorted(rows, key=lambda r: (len(r["path"]), r["path"])):
        key = (r["dev"], r["ino"]) if r.get("ino") else ("path", r["path"])
        if key in files:
            files[key].setdefault("_also", []).append(r["path"])
        else:
            files[key] = r
    copies = list(files.values())
    if len(copies) < 2:
        return None
    chosen = [m for m in copies if m["hash"] in choices]
    if chosen:
        keep = max(chosen, key=lambda m: (choices[m["hash"]], -len(m["path"])))
        keep_reasons = ["chosen by you"]
    else:
        keep, keep_reasons = keeper.choose(copies, rules)
    best_edge: dict[str, tuple] = {}  # node -> (rank, score, why): the link to the keeper first
    for a, b, s in edges:
        if a in nodes and b in nodes:
            why = info.get((a, b), "")
            for h, other in ((a, b), (b, a)):
                rank = (other == keep["hash"], s)
                if h not in best_edge or rank > best_edge[h][0]:
                    best_edge[h] = (rank, s, why)
    members = []
    for m in sorted(copies, key=lambda m: (m["id"] != keep["id"], m["path"])):
        also = m.get("_also", [])
        extra = [f"same file also at {p} (hard link)" for p in also]
        if m["id"] == keep["id"]:
            members.append(Member(m["path"], "exact", 1.0, ["keep: " + "; ".join(keep_reasons)]
                                  + extra, m["id"], m["hash"], also, m["size"], m["mtime_ns"]))
        elif m["hash"] == keep["hash"]:
            members.append(Member(m["path"], "exact", 1.0, ["byte-identical copy"] + extra,
                                  m["id"], m["hash"], also, m["size"], m["mtime_ns"]))
        else:
            _, s, why = best_edge.get(m["hash"], (None, 0.0, ""))
            members.append(Member(m["path"], "near", min(1.0, max(0.0, s)),
                                  ["edited copy: " + why] + extra, m["id"], m["hash"], also,
                                  m["size"], m["mtime_ns"]))
    return Group(keep["path"], members)
