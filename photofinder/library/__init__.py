"""THE door: ``Library(path)`` ties catalogue, index, model, pipeline and duplicates together.

The CLI and the GUI call this and nothing below it: folders, scanning and indexing, search,
duplicates (find, keep, not-duplicates, trash, undo), watching, the model. The services below
(``work``, ``dedup``) take the catalogue, the index and the model they need, never the
Library. A library is a folder holding the catalogue (``catalog.sqlite``) and the derived
index (``index.hnsw`` + ``index.json``). One process writes at a time (``write.lock``, taken
by every method that writes); readers need no lock.

The door is a package: ``base.py`` (opening, model, index, lock, folders, indexing, status),
``search.py``, ``duplicates.py``, ``learning.py`` (projections and the map) are the parts of
``Library``; ``tools.py`` holds what needs no library (the model, pictures for display,
watching); ``errors.py`` its errors and records.
"""

from __future__ import annotations

from photofinder.dedup.cleanup import TrashReport, UndoReport
from photofinder.dedup.finder import DEFAULT_SENSITIVITY, Findings, Group
from photofinder.library.base import LibraryBase
from photofinder.library.duplicates import DuplicatesMixin
from photofinder.library.errors import (FolderInfo, LibraryBusy, LibraryError, LibraryMap, Match,
                                        normpath)
from photofinder.library.learning import ProjectionMixin
from photofinder.library.search import SearchMixin
from photofinder.library.tools import (Picture, PictureError, build_model, folder_watcher,
                                       is_photo_name, load_model, model_info, open_picture,
                                       plot_problem, thumbnail, write_pr_curve)
from photofinder.store.records import Listing
from photofinder.work.indexer import Progress


class Library(SearchMixin, DuplicatesMixin, ProjectionMixin, LibraryBase):
    """A photo library: ``Library(path)``; see the package's docstring."""


__all__ = ["Library", "LibraryError", "LibraryBusy", "Match", "LibraryMap", "FolderInfo", "Group",
           "Findings", "TrashReport", "UndoReport", "Progress", "Listing", "normpath", "load_model",
           "model_info", "build_model", "DEFAULT_SENSITIVITY", "PictureError", "Picture",
           "is_photo_name", "open_picture", "thumbnail", "folder_watcher", "plot_problem",
           "write_pr_curve"]
