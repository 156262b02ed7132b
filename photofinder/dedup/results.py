"""The last duplicates results, kept in the catalogue so that opening Duplicates again shows
them at once.

Saved with the parameters they were made under (model, sensitivity, method) and, for every
member, the size, mtime and content hash it was judged on. Loaded only under the same
parameters; a group with a member the catalogue no longer has in that state (changed,
moved, deleted, re-indexed) is left out, and the answer says it is not fresh: the caller
runs the check again (which only checks what is new).
"""

from __future__ import annotations

import json

from photofinder.dedup.findings import Findings, Group, Member


def _member(m: Member) -> dict:
    return {"path": m.path, "kind": m.kind, "score": m.score, "reasons": m.reasons,
            "photo_id": m.photo_id, "hash": m.hash, "also": m.also, "size": m.size,
            "mtime_ns": m.mtime_ns, "companion": m.companion, "edit": m.edit}


def _group(g: Group) -> dict:
    return {"keep": g.keep, "members": [_member(m) for m in g.members]}


def save(catalog, params: str, found: Findings) -> None:
    data = {"groups": [_group(g) for g in found.groups],
            "similar_shots": [_group(g) for g in found.similar_shots]}
    catalog.dedup.save_results(params, json.dumps(data))  # ASCII: odd paths round-trip


def load(catalog, params: str) -> Findings | None:
    row = catalog.dedup.results()
    if row is None or row[0] != params:
        return None
    _, created_at, text = row
    try:
        data = json.loads(text)
        groups = [_load_group(g) for g in data["groups"]]
        similar = [_load_group(g) for g in data["similar_shots"]]
    except (ValueError, KeyError, TypeError):
        return None
    paths = [m.path for g in groups + similar for m in g.members]
    now = catalog.photos.states(paths)

    def same(m: Member) -> bool:
        s = now.get(m.path)
        return s is not None and (s.size, s.mtime_ns, s.hash) == (m.size, m.mtime_ns, m.hash)
    keep_g = [g for g in groups if all(same(m) for m in g.members)]
    keep_s = [g for g in similar if all(same(m) for m in g.members)]
    fresh = len(keep_g) == len(groups) and len(keep_s) == len(similar)
    return Findings(keep_g, keep_s, fresh, created_at, {"stored": True})


def _load_group(d: dict) -> Group:
    return Group(d["keep"], [Member(m["path"], m["kind"], m["score"], list(m["reasons"]),
                                    m["photo_id"], m["hash"], list(m.get("also", [])),
                                    m.get("size"), m.get("mtime_ns"), bool(m.get("companion")),
                                    m.get("edit"))
                             for m in d["members"]])
