"""Evaluation of "Find similar" on a folder of groups: each sub-folder is a group, every
indexed photo of a group with two or more photos queries the whole library, the query itself
left out. Photos outside any sub-folder (or in other folders of the library) are distractors.

Works on what the catalogue and the search pipeline give, so it measures what a user gets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

from photofinder.retrieval import metrics
from photofinder.errors import PhotofinderError

MAX_RANK = 1000  # rankings are cut here; relevant items further down count as missed


class EvaluationError(PhotofinderError):
    """The folder cannot be evaluated (no groups, too few photos); one line for the user."""


@dataclass
class Query:
    path: str
    label: int
    group: str


@dataclass
class Plan:
    """What the folder holds, as the catalogue sees it."""

    groups: dict[str, list[Query]]
    failed: list[dict] = field(default_factory=list)   # {"path", "error"}
    distractors: int = 0


def group_of(root: str, path: str) -> str | None:
    """The group (first sub-folder under ``root``) of a path, None for a file at the top."""
    rel = os.path.relpath(path, root)
    parts = rel.split(os.sep)
    return parts[0] if len(parts) > 1 else None


def plan(root: str, files: list[str], lookup: Callable[[str], dict | None]) -> Plan:
    """Sort ``files`` under ``root`` into groups. ``lookup(path)`` gives the catalogue's view:
    {"label": int} when indexed, {"error": str} when it failed, None when unknown."""
    out = Plan(groups={})
    for path in sorted(files):
        g = group_of(root, path)
        info = lookup(path)
        if info is None:
            out.failed.append({"path": path, "error": "not in the library"})
        elif "error" in info:
            out.failed.append({"path": path, "error": info["error"]})
        elif g is None:
            out.distractors += 1
        else:
            out.groups.setdefault(g, []).append(Query(path, info["label"], g))
    if not out.groups:
        raise EvaluationError(f"no photos in sub-folders of {root}: each sub-folder is a group "
                              "of photos of one scene or object")
    if not any(len(q) >= 2 for q in out.groups.values()):
        raise EvaluationError(f"no group in {root} has two or more photos to evaluate with")
    return out


@dataclass
class Report:
    plan: Plan
    summary: metrics.Summary
    library_size: int
    settings: dict = field(default_factory=dict)   # model, projection, query expansion...

    def as_dict(self) -> dict:
        """The JSON shape of DESIGN.md (groups, photos, map, precision_at, recall_at_10), then
        more keys."""
        s, p = self.summary, self.plan
        grouped = sum(len(qs) for qs in p.groups.values())
        return {
            "groups": len(p.groups),
            "photos": grouped,
            "map": round(s.map, 4),
            "precision_at": {str(k): round(v, 4) for k, v in s.precision_at.items()},
            "recall_at_10": round(s.recall_at[10], 4),
            "queries": s.queries,
            "library_photos": self.library_size,
            "distractors": self.library_size - grouped,
            "failed": p.failed,
            "pr_curve": {"recall": [round(x, 2) for x in s.curve_recall[::10]],
                         "precision": [round(x, 4) for x in s.curve_precision[::10]]},
            **self.settings,
        }


def run(p: Plan, rank_query: Callable[[Query, int], list[tuple[int, float]]],
        library_size: int, settings: dict | None = None) -> Report:
    """Every photo of a group of two or more queries the library: ``rank_query(query, k)``
    gives the best ``k`` (label, score), best first, the query's own label left out."""
    group_of_label = {q.label: q.group for qs in p.groups.values() for q in qs}
    k = max(1, min(MAX_RANK, library_size - 1))
    rankings = []
    for g, qs in p.groups.items():
        if len(qs) < 2:
            continue
        for q in qs:
            hits = rank_query(q, k)
            rankings.append(([group_of_label.get(l) == g for l, _ in hits], len(qs) - 1))
    return Report(p, metrics.summarize(rankings), library_size, settings or {})
