"""Typed records the catalogue hands out (never tuples read by position), by repository."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple

PENDING, INDEXED, FAILED = "pending", "indexed", "failed"  # a photo's status


def _from_row(cls, row: dict):
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in row.items() if k in names})


# -- folders and photos (photos.py) -----------------------------------------------------------
@dataclass(frozen=True)
class Folder:
    id: int
    path: str
    added_at: float
    online: bool
    last_scan: float | None = None

    @classmethod
    def from_row(cls, row: dict) -> "Folder":
        f = _from_row(cls, row)
        return cls(f.id, f.path, f.added_at, bool(f.online), f.last_scan)


@dataclass(frozen=True)
class Photo:
    id: int
    folder_id: int
    path: str
    size: int
    mtime_ns: int
    dev: int | None = None
    ino: int | None = None
    hash: str | None = None
    width: int | None = None
    height: int | None = None
    orientation: int | None = None
    taken_at: str | None = None
    format: str | None = None
    status: str = PENDING
    error: str | None = None
    indexed_at: float | None = None

    @classmethod
    def from_row(cls, row: dict) -> "Photo":
        return _from_row(cls, row)


@dataclass(frozen=True)
class PhotoError:
    path: str
    error: str


@dataclass(frozen=True)
class Pending:
    id: int
    path: str


@dataclass(frozen=True)
class Listing:
    """One row of the library's photo list (the GUI grid)."""
    id: int
    path: str
    taken_at: str | None
    mtime_ns: int
    status: str


@dataclass(frozen=True)
class MemberState:
    """What a stored duplicates result's member was judged on, as the catalogue has it now."""
    path: str
    size: int
    mtime_ns: int
    hash: str | None


# -- embeddings (embeddings.py) ---------------------------------------------------------------
@dataclass(frozen=True)
class StoredVector:
    """A photo's stored embedding: its label in the index and the float16 bytes."""
    label: int
    vector: bytes


@dataclass(frozen=True)
class IndexedItem:
    label: int        # the vector's label in the index
    photo_id: int
    path: str
    hash: str | None


# -- signatures and the duplicates' cache (signatures.py, dedup.py) ---------------------------
@dataclass(frozen=True)
class DedupNode:
    """An indexed photo as the duplicates check sees it."""
    photo_id: int
    hash: str
    label: int | None  # its vector's label in the index, if embedded


@dataclass(frozen=True)
class PairVerdict:
    hash_a: str
    hash_b: str
    kind: str  # "copy", "similar" or "none"
    score: float
    why: str
    geometry: bytes | None  # verify.Geometry blob: how B's picture maps onto A's
    tentative: bool = False  # "similar" on weak evidence: other pairs of the groups may be copies


class StoredFindings(NamedTuple):
    """The last duplicates results as stored: the parameters they were made under, when,
    and the JSON text (dedup/results.py reads it)."""
    params: str
    created_at: float
    data: str


# -- the journal (journal.py) -----------------------------------------------------------------
@dataclass(frozen=True)
class JournalEntry:
    id: int
    batch: str
    path: str
    hash: str | None
    size: int | None
    mtime_ns: int | None
    state: str
    trash_dir: str | None
    trash_name: str | None
    reason: str | None
    at: float
    how: str = "move"  # "copy": copied to the user's own trash, then the original removed


@dataclass(frozen=True)
class RegisteredFolder:
    """A folder as it was registered: its path, the path with its symlinks resolved then
    (None for folders registered before that was kept), and when."""
    path: str
    real: str | None
    added_at: float
    removed_at: float | None


@dataclass(frozen=True)
class Unreadable:
    """A subfolder (or a whole folder) that could not be read at the last scan: its photos
    are kept, offline, until it can."""
    path: str
    folder_id: int
    reason: str
    since: float


# -- marks on "Find similar" results (feedback.py) --------------------------------------------
@dataclass(frozen=True)
class MarkedVector:
    """A marked result with its stored vector (for re-ranking and training)."""
    query_hash: str
    result_hash: str
    mark: str
    query_label: int | None    # None when no indexed photo has that content any more
    result_label: int | None


# -- projections (projections.py) -------------------------------------------------------------
@dataclass(frozen=True)
class ProjectionRecord:
    model: str
    version: str
    kind: str
    trained_on: int
    created_at: float
    data: bytes

