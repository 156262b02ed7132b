"""Typed records the catalogue hands out (never tuples read by position)."""

from __future__ import annotations

from dataclasses import dataclass, fields


def _from_row(cls, row: dict):
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in row.items() if k in names})


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
    status: str = "pending"
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
