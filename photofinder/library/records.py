"""What the door hands out besides the Library: small records, and how it names paths."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np


@dataclass
class Match:
    path: str
    score: float
    photo_id: int
    mark: str | None = None  # the user's "similar" / "not_similar" on this result


@dataclass(frozen=True)
class LibraryMap:
    """Photos on the library's 2-D map: ``paths[i]`` sits at ``xy[i]`` (0..1000)."""
    paths: list[str]
    xy: np.ndarray
    space: str


@dataclass(frozen=True)
class FolderInfo:
    id: int
    path: str
    online: bool
    photos: int


@dataclass(frozen=True)
class PhotoCounts:
    """Catalogued photos by state."""
    indexed: int
    pending: int
    failed: int


@dataclass(frozen=True)
class Problem:
    """A photo that could not be indexed (``kind`` "photo"), or a folder that cannot be read
    ("folder": its photos are kept, offline); ``error`` is the user's one line."""
    path: str
    error: str
    kind: str = "photo"

    def to_json(self) -> dict:
        return {"path": self.path, "error": self.error} | \
            ({"kind": self.kind} if self.kind != "photo" else {})


@dataclass(frozen=True)
class Status:
    """What ``Library.status()`` says: the photos by state, the problems, the folders, the
    model and its provider ("not built" / "unavailable" when there is none to run; then
    ``provider`` says why), the projection's status and the words' (None without a model).
    ``to_json()`` is the CLI's ``status --json`` (the contract's shape)."""
    photos: PhotoCounts
    errors: list[Problem]
    folders: list[FolderInfo]
    model: str
    provider: str
    projection: dict
    words: dict | None

    @property
    def has_model(self) -> bool:
        return self.model not in ("not built", "unavailable")

    def to_json(self) -> dict:
        return {"photos": {"indexed": self.photos.indexed, "pending": self.photos.pending,
                           "failed": self.photos.failed},
                "errors": [e.to_json() for e in self.errors],
                "folders": [{"path": f.path, "online": f.online, "photos": f.photos}
                            for f in self.folders],
                "model": self.model, "provider": self.provider, "projection": self.projection,
                "words": self.words}


def normpath(path: str | os.PathLike) -> str:
    """The absolute path the catalogue knows a file by (``~`` expanded, links kept)."""
    return os.path.abspath(os.path.expanduser(os.fspath(path)))
