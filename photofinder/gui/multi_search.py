"""Several photos searched at once (a file manager's selection of many): one grid of the
photos most like any of them, each at its best score; the photos asked about are left out."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from photofinder.gui.queries import TOP, SimilarResult
from photofinder.errors import PhotofinderError
from photofinder.library import Library, LibraryError, Match


@dataclass
class ManyResult(SimilarResult):
    queries: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path: why", files that could not be searched


def similar_many(lib: Library, paths: list[str], top: int = TOP) -> ManyResult:
    start = time.perf_counter()
    lib.catch_up()
    asked = [os.path.abspath(p) for p in paths]
    leave_out = set(asked) | {os.path.realpath(p) for p in asked}
    best: dict[str, Match] = {}
    outside, skipped, searched = False, [], []
    for p in asked:
        try:
            matches = lib.similar(p, top)
        except PhotofinderError as e:  # (this photo cannot be searched: the others can)
            skipped.append(f"{p}: {e}")
            continue
        searched.append(p)
        outside = outside or not lib.is_catalogued(p)
        for m in matches:
            if m.path not in leave_out and (m.path not in best or m.score > best[m.path].score):
                best[m.path] = m
    if not searched:  # nothing could be searched: the first reason, not an empty grid
        raise LibraryError(skipped[0] if len(skipped) == 1 else
                           f"none of the {len(skipped)} photos could be searched ({skipped[0]})")
    matches = sorted(best.values(), key=lambda m: -m.score)[:top]
    return ManyResult(searched[0], matches, outside, time.perf_counter() - start,
                      queries=searched, skipped=skipped)
