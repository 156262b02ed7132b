"""Duplicates: exact and edited copies, the copy to keep and why, clean-up with undo.

The API the CLI and the GUI call (Qt-free; every function takes the ``Library`` it works on):

- ``find_groups(lib, sensitivity=0.5, verify=True, rules=None) -> list[Group]``:
  groups best first. ``Group.keep`` (path) and ``Group.members`` (``Member``: path, kind
  "exact"|"near", score, reasons; the keeper is a member too); ``Group.to_json()`` gives the
  CLI contract's shape. ``sensitivity`` in [0, 1]: higher finds more (looser), lower fewer.
  ``verify=False`` skips the strict pixel check (measuring only; groups bursts).
- ``choose_keeper(lib, path)``: the user's override: keep this copy in its group, remembered.
- ``get_rules(lib) / set_rules(lib, Rules)``: keeper rule order and preferred folders.
- ``trash(lib, paths, groups=None, dry_run=False) -> TrashReport``: send copies to the system
  trash (journaled; refuses anything that is not a duplicate and the last copy of a group).
  ``trash_groups(lib, groups, dry_run=False)``: every non-keeper of the groups.
- ``undo(lib, batch=None) -> list[str]``: put the last (or the named) trash batch back.
- ``mark_not_duplicates(lib, path_a, path_b)``: remembered forever (by content hash), the
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

import json
import os
import time
from dataclasses import dataclass, field

import numpy as np

from photofinder.pixels import imaging
from photofinder.dedup import align, grouping, keeper
from photofinder.dedup import signature as S
from photofinder.dedup.cleanup import CleanupError, last_batch, trash_files, undo_batch
from photofinder.dedup.keeper import Rules
from photofinder.pixels.embedding import preprocess

DEFAULT_SENSITIVITY = 0.5
NOT_DUPLICATE = "not_duplicate"
__all__ = ["Group", "Member", "TrashReport", "Rules", "find_groups", "choose_keeper",
           "get_rules", "set_rules", "trash", "trash_groups", "undo", "mark_not_duplicates",
           "thresholds", "CleanupError"]


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


@dataclass
class TrashReport:
    batch: str | None
    trashed: list[str]
    refused: dict[str, str]  # path -> why not
    dry_run: bool = False


# -- settings ---------------------------------------------------------------------------------
def get_rules(lib) -> Rules:
    raw = lib.catalog.get_meta("keeper_rules")
    return Rules.from_dict(json.loads(raw) if raw else None)


def set_rules(lib, rules: Rules) -> None:
    lib.catalog.set_meta("keeper_rules", json.dumps(rules.to_dict()))


def _photo(lib, path: str) -> dict:
    p = os.path.abspath(path)
    row = lib.catalog.photo_by_path(p) or lib.catalog.photo_by_path(os.path.realpath(p))
    if row is None or not row.get("hash"):
        raise CleanupError(f"not an indexed photo of this library: {p}")
    return row


def choose_keeper(lib, path: str) -> None:
    row = _photo(lib, path)
    lib.catalog.db.execute("INSERT OR REPLACE INTO keeper_choices(hash, chosen_at) VALUES (?, ?)",
                           [row["hash"], time.time()])


def mark_not_duplicates(lib, path_a: str, path_b: str) -> None:
    a, b = sorted([_photo(lib, path_a)["hash"], _photo(lib, path_b)["hash"]])
    if a == b:
        raise CleanupError("these two files are byte-identical copies; they are duplicates")
    lib.catalog.db.execute("INSERT OR REPLACE INTO decisions(hash_a, hash_b, decision, created_at) "
                           "VALUES (?, ?, ?, ?)", [a, b, NOT_DUPLICATE, time.time()])


# -- signatures -------------------------------------------------------------------------------
def _fill_missing_signatures(lib) -> int:
    """Photos indexed before signatures existed get one now (decoded once, stored)."""
    rows = lib.catalog.rows(
        "SELECT p.id, p.path FROM photos p LEFT JOIN signatures s ON s.photo_id=p.id "
        "WHERE p.status='indexed' AND s.photo_id IS NULL")
    done = 0
    for r in rows:
        try:
            decoded = imaging.decode(imaging.read_bytes(r["path"]), need=preprocess.LONG_SIDE)
        except imaging.ImageError:
            continue
        lib.catalog.set_signature(r["id"], S.compute(decoded.image))
        done += 1
    return done


def _signature_hashes(lib, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """(photo ids, (n, 8) dihedral hashes) of every usable signature, read in chunks."""
    ids, hashes = [], []
    cur = lib.catalog.db.conn.execute(
        "SELECT s.photo_id, s.sig FROM signatures s JOIN photos p ON p.id=s.photo_id "
        "WHERE p.status='indexed' AND min(p.width, p.height) >= ?", [S.MIN_PIXELS_SIDE])
    while True:
        rows = cur.fetchmany(chunk)
        if not rows:
            break
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
def find_groups(lib, sensitivity: float = DEFAULT_SENSITIVITY, verify: bool = True,
                rules: Rules | None = None, stats: dict | None = None) -> list[Group]:
    """Duplicate groups (see the module docstring). ``stats``, if given, is filled with
    counts (candidates, checked, rejected) for benchmarks."""
    th = thresholds(sensitivity)
    cat = lib.catalog
    rules = rules or get_rules(lib)
    stats = stats if stats is not None else {}
    _fill_missing_signatures(lib)
    # one node per content hash
    photos = cat.db.execute("SELECT p.id, p.hash, e.id FROM photos p LEFT JOIN embeddings e ON "
                            "e.photo_id=p.id WHERE p.status='indexed' AND p.hash IS NOT NULL"
                            ).fetchall()
    node_of_photo = {pid: h for pid, h, _ in photos}
    photo_of_label = {lab: pid for pid, _, lab in photos if lab is not None}
    by_hash: dict[str, list[int]] = {}
    for pid, h, _ in photos:
        by_hash.setdefault(h, []).append(pid)
    vetoed = {frozenset((a, b)) for a, b in cat.db.execute(
        "SELECT hash_a, hash_b FROM decisions WHERE decision=?", [NOT_DUPLICATE])}
    small = {r[0] for r in cat.db.execute(
        "SELECT id FROM photos WHERE status='indexed' AND min(width, height) < ?",
        [S.MIN_PIXELS_SIDE])}

    # candidates: CNN range search + dihedral hashing
    cand: dict[tuple[str, str], dict] = {}
    index = lib.index
    labels = sorted(index.live)
    def vectors(chunk_labels):
        got = dict(cat.vectors(chunk_labels))
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
    ids, hashes = _signature_hashes(lib)
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
        score, why = _check(lib, c, th, verify, stats)
        if score is None:
            stats["rejected"] += 1
            continue
        edges.append((key[0], key[1], score))
        info[key] = why
    groups_nodes = grouping.constrained_groups(edges, vetoed)
    exact_only = [{h} for h, pids in by_hash.items() if len(pids) > 1
                  and not any(h in g for g in groups_nodes)]
    choices = dict(cat.db.execute("SELECT hash, chosen_at FROM keeper_choices"))
    out = []
    for nodes in groups_nodes + exact_only:
        g = _build_group(lib, nodes, by_hash, edges, info, rules, choices)
        if g is not None:
            out.append(g)
    out.sort(key=lambda g: (-len(g.members), g.keep))
    return out


def _sig_and_size(lib, pid: int):
    row = lib.catalog.db.execute(
        "SELECT s.sig, p.width, p.height, p.path FROM photos p LEFT JOIN signatures s "
        "ON s.photo_id=p.id WHERE p.id=?", [pid]).fetchone()
    return row


def _check(lib, c: dict, th: dict, verify: bool, stats: dict) -> tuple[float | None, str]:
    """(edge score or None when rejected, a reason)."""
    a, b = _sig_and_size(lib, c["pa"]), _sig_and_size(lib, c["pb"])
    cos = c.get("cosine")
    look = f"looks alike {cos:.2f}" if cos is not None else "same picture in another orientation"
    if a is None or b is None or a[0] is None or b[0] is None:
        ok = cos is not None and (not verify or cos >= 0.95)
        return (cos if ok else None), f"{look} (no pixel signature)"
    stats["checked"] += 1
    if cos is None:  # found by the rotation hash: the pixels must line up as they are
        s, g = S.agreement(a[0], (a[1], a[2]), b[0], (b[1], b[2]), crops=False)
        if s >= th["rotation_pixels"]:
            return s, f"{look}: {S.NAMES[g]}, pixels agree {s:.2f}"
        return None, ""
    if not verify:
        return cos, look
    s, g = S.agreement(a[0], (a[1], a[2]), b[0], (b[1], b[2]), enough=th["pixels"])
    if s >= th["pixels"]:
        return s, f"{look}, pixels agree {s:.2f}" + (f" ({S.NAMES[g]})" if g else "")
    stats["by_features"] += 1
    s2 = align.files_agreement(a[3], b[3])
    if s2 >= th["pixels"]:
        return s2, f"{look}, pixels agree {s2:.2f} after aligning (turned or shifted copy)"
    return None, ""


def _build_group(lib, nodes: set, by_hash: dict, edges, info, rules: Rules, choices: dict
                 ) -> Group | None:
    rows = []
    for h in nodes:
        for pid in by_hash.get(h, []):
            r = lib.catalog.photo(pid)
            if r is not None:
                rows.append(r)
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
                                  + extra, m["id"], m["hash"], also))
        elif m["hash"] == keep["hash"]:
            members.append(Member(m["path"], "exact", 1.0, ["byte-identical copy"] + extra,
                                  m["id"], m["hash"], also))
        else:
            _, s, why = best_edge.get(m["hash"], (None, 0.0, ""))
            members.append(Member(m["path"], "near", min(1.0, max(0.0, s)),
                                  ["edited copy: " + why] + extra, m["id"], m["hash"], also))
    return Group(keep["path"], members)


# -- clean-up -----------------------------------------------------------------------------------
def _exists_apart(path: str, gone: set[str]) -> bool:
    """The file is on disk and is not one of the files about to go (by inode)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    for g in gone:
        try:
            other = os.stat(g)
        except OSError:
            continue
        if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
            return False
    return True


def trash(lib, paths: list[str], groups: list[Group] | None = None,
          dry_run: bool = False) -> TrashReport:
    """Move duplicate copies to the system trash (see the module docstring)."""
    groups = find_groups(lib) if groups is None else groups
    wanted = [os.path.abspath(p) for p in paths]
    where = {m.path: (g, m) for g in groups for m in g.members}
    refused: dict[str, str] = {}
    todo: list[tuple[str, str]] = []
    gone: set[str] = set()
    for p in wanted:
        if p not in where:
            refused[p] = "not in any duplicate group"
            continue
        g, m = where[p]
        survivors = [o.path for o in g.members if o.path != p and o.path not in gone
                     and o.path not in wanted[wanted.index(p) + 1:]]
        if not any(_exists_apart(s, gone | {p}) for s in survivors):
            refused[p] = "the last copy of its group is never trashed"
            continue
        if not os.path.exists(p):
            refused[p] = "no longer on disk"
            continue
        todo.append((p, m.hash))
        gone.add(p)
        gone.update(m.also)
    if dry_run or not todo:
        return TrashReport(None, [p for p, _ in todo], refused, dry_run)
    lib.lock()
    with lib.catalog.transaction():
        batch = trash_files(lib.catalog, todo)
        ids = [r["id"] for p, _ in todo for r in [lib.catalog.photo_by_path(p)] if r]
        labels = lib.catalog.delete_photos(ids)
    lib.index.remove(labels)
    lib.index.save()
    return TrashReport(batch, [p for p, _ in todo], refused)


def trash_groups(lib, groups: list[Group], dry_run: bool = False) -> TrashReport:
    """Trash every copy but the keeper of each group."""
    return trash(lib, [m.path for g in groups for m in g.others], groups, dry_run)


def undo(lib, batch: str | None = None, reindex: bool = True) -> list[str]:
    """Put a trash batch back (the last one by default) and index the files again."""
    batch = batch or last_batch(lib.catalog)
    if batch is None:
        raise CleanupError("nothing to undo")
    lib.lock()
    restored = undo_batch(lib.catalog, batch)
    if reindex and restored:
        folders = [f for f in lib.folders()
                   if any(p.startswith(f["path"].rstrip(os.sep) + os.sep) for p in restored)]
        if folders:
            lib.update(folders=folders)
    return restored

