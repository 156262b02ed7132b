"""What the query worker runs: plain functions of a reader Library, no Qt.

Each returns a value the UI can show as is (built off the UI thread: sorting 100,000 names
happens here, not in a paint event), or a ``Failure`` with a one-line reason.
"""

from __future__ import annotations

import os
import time
import weakref
from dataclasses import dataclass, field

from photofinder.library import Library, Match

TOP = 200  # results fetched per search; the similarity slider filters these instantly


@dataclass
class Failure:
    message: str


@dataclass
class PhotoTable:
    """Every catalogued photo, column-wise, with the sort orders precomputed."""

    ids: list[int] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # lower-case file names, for the filter
    dates: list[str] = field(default_factory=list)  # "YYYY-MM-DD HH:MM" taken, else modified
    status: list[str] = field(default_factory=list)
    orders: dict[str, list[int]] = field(default_factory=dict)  # "date"/"name"/"folder"

    def __len__(self) -> int:
        return len(self.paths)


@dataclass
class SimilarResult:
    query: str
    matches: list[Match]
    outside: bool  # the query is not in the library (dropped or opened)
    seconds: float = 0.0


def _date(taken_at: str | None, mtime_ns: int) -> str:
    if taken_at:
        return taken_at.replace(":", "-", 2)[:16]
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(mtime_ns / 1e9))


def photos(lib: Library) -> PhotoTable:
    cur = lib.catalog.db.conn.execute(
        "SELECT p.id, p.path, p.taken_at, p.mtime_ns, p.status FROM photos p ORDER BY p.path")
    t = PhotoTable()
    for pid, path, taken, mtime, status in cur:
        t.ids.append(pid)
        t.paths.append(path)
        t.names.append(os.path.basename(path).lower())
        t.dates.append(_date(taken, mtime))
        t.status.append(status)
    n = len(t.paths)
    t.orders["folder"] = list(range(n))  # ORDER BY path: folder, then name
    t.orders["name"] = sorted(range(n), key=t.names.__getitem__)
    t.orders["date"] = sorted(range(n), key=t.dates.__getitem__, reverse=True)  # newest first
    return t


_seen: "weakref.WeakKeyDictionary[Library, int]" = weakref.WeakKeyDictionary()


def catch_up(lib: Library) -> None:
    """``lib.refresh()`` when another connection (the writer) has committed since the last
    time; SQLite's data_version says so without reading 100,000 labels per search."""
    version = lib.catalog.db.execute("PRAGMA data_version").fetchone()[0]
    if _seen.get(lib) != version:
        lib.refresh()
        _seen[lib] = version


def similar(lib: Library, path: str, top: int = TOP) -> SimilarResult:
    start = time.perf_counter()
    catch_up(lib)
    p = os.path.abspath(path)
    outside = lib.catalog.photo_by_path(p) is None
    matches = lib.similar(p, top)
    return SimilarResult(p, matches, outside, time.perf_counter() - start)


def status(lib: Library) -> dict:
    return lib.status()


def warm(lib: Library) -> int:
    """Load the model and the index before the first search needs them."""
    catch_up(lib)
    return len(lib.index)


def duplicates(lib: Library, sensitivity: float = 0.5):
    """Duplicate groups (photofinder.dedup.finder.find_groups), best first."""
    from photofinder.dedup import finder as dup

    catch_up(lib)
    return dup.find_groups(lib, sensitivity=sensitivity)
