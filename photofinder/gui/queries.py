"""What the query worker runs: plain functions of a reader Library, no Qt.

Each returns a value the UI can show as is (built off the UI thread: sorting 100,000 names
happens here, not in a paint event), or a ``Failure`` with a one-line reason.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from photofinder.library import DEFAULT_SENSITIVITY, Findings, Library, Match, Status

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
    region: tuple[int, int, int, int] | None = None  # "Find this": the part searched by


def _date(taken_at: str | None, mtime_ns: int) -> str:
    if taken_at:
        return taken_at.replace(":", "-", 2)[:16]
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(mtime_ns / 1e9))


def photos(lib: Library) -> PhotoTable:
    t = PhotoTable()
    for row in lib.listing():
        t.ids.append(row.id)
        t.paths.append(row.path)
        t.names.append(os.path.basename(row.path).lower())
        t.dates.append(_date(row.taken_at, row.mtime_ns))
        t.status.append(row.status)
    n = len(t.paths)
    t.orders["folder"] = list(range(n))  # ordered by path: folder, then name
    t.orders["name"] = sorted(range(n), key=t.names.__getitem__)
    # newest first by the date taken; a file that could not be read has no date of its own
    # (only when it was copied), so it goes last rather than heading the grid
    newest = sorted(range(n), key=t.dates.__getitem__, reverse=True)
    t.orders["date"] = [i for i in newest if t.status[i] != "failed"] + \
        [i for i in newest if t.status[i] == "failed"]
    return t


def similar(lib: Library, path: str, top: int = TOP, region=None) -> SimilarResult:
    """The photos like ``path`` (or like its ``region``, x, y, w, h: "Find this")."""
    start = time.perf_counter()
    lib.catch_up()
    p = os.path.abspath(path)
    outside = not lib.is_catalogued(p)
    matches = lib.similar(p, top, region=region)
    return SimilarResult(p, matches, outside, time.perf_counter() - start, region=region)


@dataclass(frozen=True)
class LibraryState:
    """The library's status, and whether Undo has anything to put back."""
    status: Status
    undo: bool


def status(lib: Library) -> LibraryState:
    return LibraryState(lib.status(), lib.can_undo())


def warm(lib: Library) -> int:
    """Load the model and the index before the first search needs them."""
    return lib.warm()


@dataclass(frozen=True)
class DuplicatesAnswer:
    """A duplicates check's findings, and why they were not stored (a read-only library,
    another process writing), else None: the status bar says so."""
    findings: Findings
    unsaved: str | None = None


def duplicates(lib: Library, sensitivity: float = DEFAULT_SENSITIVITY,
               progress=None) -> DuplicatesAnswer:
    """Copy groups and similar shots; only what is new is checked.
    ``progress(stage, done, total)`` is called from this worker thread."""
    lib.catch_up()
    found = lib.find_duplicates(sensitivity, progress=progress)
    return DuplicatesAnswer(found, lib.duplicates_unsaved)


def stored_duplicates(lib: Library, sensitivity: float = DEFAULT_SENSITIVITY):
    """The last results at once (no check), or None."""
    return lib.stored_duplicates(sensitivity)
