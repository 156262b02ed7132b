"""From checked pairs to what the user sees: copy groups (each with the copy to keep and
why) and, apart, similar shots (bursts, other views: never offered for the trash).

- Copy groups: union-find over "copy" edges, strongest first, never joining a pair the user
  marked "not duplicates" (clustering.constrained_groups), plus byte-identical files alone.
- The keeper: the user's choice by PATH first, then keeper.choose's rules. The picture
  content each copy shows is put in one frame by chaining the checked pairs' geometry
  (scale of each edge), so an uncropped copy beats its crops and a border adds nothing.
- A RAW and its JPEG of one shot (same folder, same name) are one photo: the keeper's
  companion is kept with it; a group of nothing but the two is no group.
- Similar shots: average linkage over "similar" edges (clustering.linked_groups; a copy
  group joins them as one node): a photo joins a group of shots only when it is like most
  of them, so look-alikes from other scenes never chain into one group (a photo like only
  a minority of every group it touches is in none; its verdicts stay stored). The photos
  not in any copy group are listed (a photo is in one place only); the suggested best shot
  is the sharpest.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter, defaultdict

import numpy as np

from photofinder.dedup import clustering, consensus, keeper
from photofinder.dedup import features as F
from photofinder.dedup.keeper import RAW_EXT, Rules
from photofinder.dedup.findings import Group, Member


def _stem(path: str) -> tuple[str, str]:
    d, name = os.path.split(path)
    return d, os.path.splitext(name)[0].lower()


def _is_raw(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in RAW_EXT


def companions(a: str, b: str) -> bool:
    """A RAW and the JPEG (or other rendering) the camera wrote beside it."""
    return _stem(a) == _stem(b) and _is_raw(a) != _is_raw(b)


def _turn(geo) -> np.ndarray:
    """How B's picture sits in A's, to the nearest quarter turn and mirror: a 2x2 integer
    matrix of the dihedral group (a few degrees of straightening are no turn)."""
    lin = np.asarray(geo.matrix, np.float64)[:, :2] / max(geo.scale, 1e-9)
    t = np.round(lin).astype(int)
    if abs(np.linalg.det(t)) != 1:  # 45 degrees: no quarter turn to speak of
        t = np.eye(2, dtype=int)
    return t @ np.diag([-1, 1]) if geo.mirrored else t


def _frame(nodes: set, edges: list) -> dict:
    """node -> area factor into one frame (None where no geometry links it), plus per-node
    content / real pixels / sharpness from the edges' geometry, and ``upright``: how many of
    the group show the picture turned and mirrored as this one does."""
    geo_of: dict = defaultdict(list)
    info: dict = {}
    damage: dict = defaultdict(list)  # node -> the noise/blur each checked pair showed it has
    for a, b, _, _, geo in edges:
        if geo is None:
            continue
        t = _turn(geo)
        geo_of[a].append((b, geo.scale ** 2, t))  # B's area -> A's area: * scale^2
        geo_of[b].append((a, 1.0 / max(geo.scale ** 2, 1e-9), t.T))
        info.setdefault(a, (geo.content_a, geo.real_a, geo.sharp_a))
        info.setdefault(b, (geo.content_b, geo.real_b, geo.sharp_b))
        damage[a].append(geo.damage_a)
        damage[b].append(geo.damage_b)
    factor: dict = {}
    turn: dict = {}
    for start in sorted(nodes, key=lambda n: -len(geo_of.get(n, []))):
        if start in factor or start not in geo_of:
            continue
        factor[start], turn[start] = 1.0, np.eye(2, dtype=int)
        todo = [start]
        while todo:
            x = todo.pop()
            for y, f, t in geo_of[x]:  # area in y's frame * f = area in x's frame
                if y not in factor:
                    factor[y] = factor[x] * f
                    turn[y] = turn[x] @ t
                    todo.append(y)
    ways = Counter(tuple(t.ravel()) for n, t in turn.items() if n in nodes)
    out = {}
    for n in nodes:
        if n in info and n in factor:
            content, real, sharp = info[n]
            # the median pair: one pair that reads a clean copy as blurred (the other's
            # grain taken for detail) does not spoil it; a noisy copy is noisy in most pairs
            out[n] = {"content": content * factor[n], "real": real, "sharp": sharp,
                      "upright": ways[tuple(turn[n].ravel())],
                      "damage": float(np.median(damage[n])) if damage.get(n) else 0.0}
    for n, facts in _links(edges).items():
        if n in nodes:
            out.setdefault(n, {}).update(facts)
    return out


def _consensus(catalog, nodes: set, edges: list) -> dict[str, float]:
    """node -> its distance from the group's per-pixel median (consensus.py), from the
    cached features of the duplicates check."""
    blobs = catalog.dedup.features(sorted(nodes), F.VERSION)
    feats = {h: f for h, b in blobs.items() if (f := F.Features.from_blob(b)) is not None}
    return consensus.distances(nodes, edges, feats)


BEST_SHOT_PIXELS = 0.5  # of the largest shot's pixels: a shot with fewer is never the best
HIDDEN = re.compile(r"(\d+)% hidden by an edit")  # verdict.rule_still's words for an overlay
ALIKE = re.compile(r"looks alike (-?[0-9.]+)")  # verdict.judge's words for the CNN's cosine


def _links(edges: list) -> dict:
    """node -> what its checked copy pairs say of it, for the keeper (keeper.py): ``links``,
    how many copies it was checked against, and ``alike``, the mean CNN cosine over those
    pairs (an original is the centre: each edit moves a copy away from it in its own
    direction, so the others match it most and look most like it); ``overlay``, the
    least share of the picture any of its pairs found hidden by an edit (a caption or a
    watermark hides patches against every copy without it; the copy without one has a pair
    that hides nothing); ``edited``: every pair it is in changed the look (tone, colour)."""
    seen: dict = defaultdict(list)
    for a, b, _, why, geo in edges:
        m = HIDDEN.search(why or "")
        hidden = int(m.group(1)) / 100.0 if m else 0.0
        edit = bool(geo is not None and geo.edit)
        m = ALIKE.search(why or "")
        alike = float(m.group(1)) if m else None
        seen[a].append((hidden, edit, alike))
        seen[b].append((hidden, edit, alike))
    out = {}
    for n, s in seen.items():
        alike = [c for _, _, c in s if c is not None]
        out[n] = {"links": len(s), "overlay": min(h for h, _, _ in s),
                  "edited": all(e for _, e, _ in s),
                  "alike": round(sum(alike) / len(alike), 3) if alike else 0.0}
    return out


def _near(edges: list) -> dict:
    near: dict = defaultdict(list)
    for a, b, s, _, geo in edges:
        edit = (geo.edit if geo is not None else "") or ""
        near[a].append((s, b, edit))
        near[b].append((s, a, edit))
    return near


def _spread(near: dict, out: dict, todo: list, known_only: bool) -> None:
    """Labels out from the nodes in ``todo`` (breadth first, strongest pair first);
    ``known_only``: never through two look changes in a row."""
    while todo:
        x = todo.pop(0)
        for _, y, edit in sorted(near[x], key=lambda t: -t[0]):
            if y not in out and not (known_only and out[x] and edit):
                out[y] = out[x] or edit
                todo.append(y)


def _unknown(keep: str, edges: list) -> list[str]:
    """The nodes whose look against the keeper the checked pairs cannot tell (``_edits``)."""
    near = _near(edges)
    out = {keep: ""}
    _spread(near, out, [keep], True)
    return sorted(set(near) - set(out))


def _edits(keep: str, edges: list, direct: dict | None = None) -> dict[str, str]:
    """node -> the deliberate edit (tone, colour, black and white) between it and the kept
    copy, following the checked pairs out from the keeper (fewest pairs, then strongest).

    Along a path the look is known while at most one pair changed it: the keeper's look then
    an edit, or an edit then a copy of the edited look. After two changes in a row it is not:
    against a tone-edited copy, an untouched one and one edited twice both changed the look.
    Such a node (``_unknown``: its pair with the keeper never checked, it joined the group
    through other copies) takes its look from ``direct``, (keeper, node) -> "" (the
    keeper's look), an edit, or None (they did not line up as copies): the two judged
    directly (``looks``, from the finder). What is still not known is labelled as a deliberate edit (the
    safe side: never pre-selected for the trash)."""
    near = _near(edges)
    out: dict[str, str] = {keep: ""}
    _spread(near, out, [keep], True)
    if direct:
        seen = {n: direct.get((keep, n)) for n in set(near) - set(out)}
        out.update({n: e for n, e in seen.items() if e is not None})
        _spread(near, out, sorted(out), True)
    _spread(near, out, sorted(out), False)  # the rest, after two changes: as edited
    return {n: e for n, e in out.items() if e}


def _files(rows: list[dict]) -> list[dict]:
    """Hard links / one file under two paths: one copy (the other paths in ``_also``)."""
    files: dict[tuple, dict] = {}
    for r in sorted(rows, key=lambda r: (len(r["path"]), r["path"])):
        key = (r["dev"], r["ino"]) if r.get("ino") else ("path", r["path"])
        if key in files:
            files[key].setdefault("_also", []).append(r["path"])
        else:
            files[key] = r
    return list(files.values())


def copy_groups(catalog, copy_edges: list, by_hash: dict, vetoed: set, rules: Rules,
                chosen: dict[str, float], looks=None, tiny: set | frozenset = frozenset(),
                moved: set | frozenset = frozenset()) -> list[Group]:
    """``copy_edges``: (hash_a, hash_b, score, why, Geometry | None); ``looks``: [(keeper,
    copy)] -> {pair: its look edit, "" or None}, for the copies whose look against the
    keeper the checked pairs cannot tell (``_edits``; None: not asked, they count as edited);
    ``tiny``: thumbnails, whose copy pairs join no groups that a pair of ``moved`` (another
    shot) sets apart (clustering.constrained_groups)."""
    sets = clustering.constrained_groups([(a, b, s) for a, b, s, _, _ in copy_edges], vetoed,
                                         tiny, moved)
    grouped = set().union(*sets) if sets else set()
    sets += [{h} for h, pids in by_hash.items() if len(pids) > 1 and h not in grouped]
    edges_of: dict = defaultdict(list)
    for e in copy_edges:
        edges_of[e[0]].append(e)
    staged = []
    for nodes in sets:
        edges = [e for n in nodes for e in edges_of.get(n, []) if e[1] in nodes]
        kept = _kept(catalog, nodes, by_hash, edges, rules, chosen)
        if kept is not None:
            staged.append((edges, *kept))
    asks = [(keep["hash"], n) for edges, _, keep, _ in staged for n in _unknown(keep["hash"], edges)]
    direct = looks(asks) if looks is not None and asks else {}
    out = [_group(copies, keep, reasons, edges, rules, _edits(keep["hash"], edges, direct))
           for edges, copies, keep, reasons in staged]
    out.sort(key=lambda g: (-len(g.members), g.keep))
    return out


def _kept(catalog, nodes: set, by_hash: dict, edges: list, rules: Rules,
          chosen: dict[str, float]) -> tuple[list[dict], dict, list[str]] | None:
    """A group's files, the one kept and why; None for no group (one file, or a RAW and
    its JPEG alone: one photo)."""
    found = catalog.photos.by_ids(pid for h in nodes for pid in by_hash.get(h, []))
    copies = _files([dataclasses.asdict(r) for r in found.values()])
    if len(copies) < 2:
        return None
    frame = _frame(nodes, edges)
    if "consensus" in rules.order and len(nodes) >= consensus.MIN_COVER:
        for n, d in _consensus(catalog, nodes, edges).items():
            frame.setdefault(n, {})["consensus"] = d
    for m in copies:
        m.update(frame.get(m["hash"], {}))
    low = ("damage", "overlay", "edited", "consensus")  # lower is better
    for key in ("content", "upright", "links", "alike") + low:
        if frame and any(key not in m for m in copies):  # not measured: as the best (says nothing)
            top = (min if key in low else max)(m.get(key, 0) for m in copies)
            for m in copies:
                m.setdefault(key, top)
    picked = [m for m in copies if any(p in chosen for p in [m["path"], *m.get("_also", [])])]
    if picked:
        keep = max(picked, key=lambda m: max(chosen.get(p, 0) for p in [m["path"], *m.get("_also", [])]))
        keep_reasons = ["chosen by you"]
    else:
        keep, keep_reasons = keeper.choose(copies, rules)
    if all(m is keep or companions(m["path"], keep["path"]) for m in copies):
        return None  # a RAW and its JPEG: one photo
    return copies, keep, keep_reasons


def _group(copies: list[dict], keep: dict, keep_reasons: list[str], edges: list, rules: Rules,
           edit_of: dict[str, str]) -> Group:
    best: dict[str, tuple] = {}  # node -> (rank, score, why): the link to the keeper first
    for a, b, s, why, _ in edges:
        for h, other in ((a, b), (b, a)):
            rank = (other == keep["hash"], s)
            if h not in best or rank > best[h][0]:
                best[h] = (rank, s, why)
    members = []
    for m in sorted(copies, key=lambda m: (m is not keep, m["path"])):
        also = m.get("_also", [])
        extra = [f"same file also at {p} (hard link)" for p in also]
        args = dict(photo_id=m["id"], hash=m["hash"], also=also, size=m["size"],
                    mtime_ns=m["mtime_ns"])
        if m is keep:
            members.append(Member(m["path"], "exact", 1.0, ["keep: " + "; ".join(keep_reasons)]
                                  + extra, **args))
        elif companions(m["path"], keep["path"]):
            members.append(Member(m["path"], "exact" if m["hash"] == keep["hash"] else "near", 1.0,
                                  ["the RAW/JPEG pair of the photo kept: one photo, kept with it"]
                                  + extra, companion=True, **args))
        elif m["hash"] == keep["hash"]:
            members.append(Member(m["path"], "exact", 1.0, ["byte-identical copy"] + extra, **args))
        else:
            _, s, why = best.get(m["hash"], (None, 0.0, ""))
            edit = edit_of.get(m["hash"])
            if edit:
                note = (f"a deliberate edit ({edit}): not pre-selected for the trash; "
                        "yours to keep or move")
            else:
                rule = keeper.beaten_by(keep, m, rules)
                note = ("pre-selected for the trash: the copy kept wins by "
                        f"{keeper.RULES[rule].reason(keep, rules) if rule else 'its path'} "
                        f"(rule: {rule or 'path'})")
            members.append(Member(m["path"], "near", min(1.0, max(0.0, s)),
                                  ["edited copy: " + why, note] + extra, edit=edit or None, **args))
    return Group(keep["path"], members)


def similar_groups(catalog, similar_edges: list, copy: list[Group], by_hash: dict,
                   vetoed: set) -> list[Group]:
    """``similar_edges``: (hash_a, hash_b, score, why, Geometry | None). Every "similar"
    verdict links its pair alike, tentative or not (weighing a tentative pair half, on
    holidays-dev, split far more shots of one scene than it kept look-alikes apart)."""
    rep: dict[str, str] = {}  # hash -> the node standing for its copy group
    keeper_of: dict[str, Member] = {}
    for g in copy:
        k = next(m for m in g.members if m.path == g.keep)
        for m in g.members:
            rep[m.hash] = k.hash
        keeper_of[k.hash] = k
    edges, sharp, why_of = [], {}, {}
    for a, b, s, why, geo in similar_edges:
        ra, rb = rep.get(a, a), rep.get(b, b)
        if ra == rb:
            continue
        edges.append((ra, rb, 1.0))
        why_of[frozenset((ra, rb))] = (s, why)
        if geo is not None:
            sharp.setdefault(rb if rb != b else b, geo.sharp_b)
            sharp.setdefault(ra if ra != a else a, geo.sharp_a)
    sets = clustering.linked_groups(edges, vetoed)
    if not sets:
        return []
    need = [by_hash[h][0] for s in sets for h in s if h not in keeper_of and by_hash.get(h)]
    rows = catalog.photos.by_ids(need)
    out = []
    for nodes in sets:
        ms: list[Member] = []
        linked = [keeper_of[h].path for h in nodes if h in keeper_of]
        for h in nodes:
            if h in keeper_of:
                continue  # a copy group's photo is shown there, never here too
            if by_hash.get(h) and by_hash[h][0] in rows:
                r = rows[by_hash[h][0]]
                ms.append(Member(r.path, "similar", 0.0, [], r.id, r.hash, [], r.size, r.mtime_ns))
        if len(ms) < 2:
            continue
        # the sharpest of the shots at full size: a thumbnail's or a small copy's few pixels
        # are each an edge (a date stamp, a filter's grain add more) and look sharper
        px = {m.hash: (rows[m.photo_id].width or 0) * (rows[m.photo_id].height or 0) for m in ms}
        full = [m for m in ms if px[m.hash] >= BEST_SHOT_PIXELS * max(px.values())]
        best = max(full, key=lambda m: (sharp.get(m.hash, 0.0), px[m.hash], -len(m.path)))
        for m in ms:
            if m is best:
                m.score = 1.0
                m.reasons = [("suggested best shot: the sharpest" if sharp else "suggested best shot")
                             + (" of the full-size ones" if len(full) < len(ms) else "")]
                m.reasons += [f"also a shot of the scene of {p} (kept in its copy group)"
                              for p in linked]
            else:
                s, why = why_of.get(frozenset((m.hash, best.hash)), (None, ""))
                if s is None:
                    s, why = max((why_of[k] for k in why_of if m.hash in k), default=(0.0, ""))
                m.score = min(1.0, max(0.0, s))
                m.reasons = ["another shot of the same scene: " + why]
        ms.sort(key=lambda m: (m is not best, m.path))
        out.append(Group(best.path, ms))
    out.sort(key=lambda g: (-len(g.members), g.keep))
    return out
