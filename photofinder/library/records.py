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


def normpath(path: str | os.PathLike) -> str:
    """The absolute path the catalogue knows a file by (``~`` expanded, links kept)."""
    return os.path.abspath(os.path.expanduser(os.fspath(path)))
