"""THE door: ``Library(path)`` (door.py) and what the CLI and the GUI use besides it.

The CLI and the GUI call this package and nothing below it. A Library holds a few
services, each in its own module and each declaring what it holds: ``space`` (the vector
space: model, projection, HNSW index, re-ranking), ``writer`` (the write lock),
``search``, ``words``, ``duplicates``, ``projections``, ``indexing``, ``cleanup``. ``tools.py`` holds
what needs no library (the model, pictures for display, watching, plotting); ``records.py``
and ``errors.py`` what the door hands out.

Errors keep the type they arise with (all ``PhotofinderError``, one line for the user):
``LibraryError`` for the door's own, and those of the layers below that callers tell apart,
re-exported here (``ModelError``: no model, or one that cannot run; ``WordError``,
``LearnError``, ``MapError``, ``EvaluationError``, ``CatalogError``). Nothing rewraps them.
"""

from __future__ import annotations

from photofinder.dedup.cleanup import TrashReport, UndoReport
from photofinder.dedup.finder import DEFAULT_SENSITIVITY, Findings, Group
from photofinder.library.door import Library
from photofinder.library.errors import LibraryBusy, LibraryError
from photofinder.library.records import (FolderInfo, LibraryMap, Match, PhotoCounts, Problem,
                                         Status, normpath)
from photofinder.library.tools import (Picture, PictureError, build_model, folder_watcher,
                                       is_photo_name, load_model, model_info, open_picture,
                                       plot_problem, similarity_percent, thumbnail, warm_words,
                                       word_suggestions, write_pr_curve)
from photofinder.pixels.embedding.model import ModelError
from photofinder.retrieval.evaluate import EvaluationError
from photofinder.retrieval.learn import LearnError
from photofinder.retrieval.map import MapError
from photofinder.retrieval.words import WordError
from photofinder.store.catalog import CatalogError
from photofinder.store.records import Listing
from photofinder.work.indexer import Progress

__all__ = ["Library", "LibraryError", "LibraryBusy", "ModelError", "WordError", "LearnError",
           "MapError", "EvaluationError", "CatalogError", "Match", "LibraryMap", "FolderInfo",
           "Status", "PhotoCounts", "Problem", "Group",
           "Findings", "TrashReport", "UndoReport", "Progress", "Listing", "normpath", "load_model",
           "model_info", "build_model", "DEFAULT_SENSITIVITY", "PictureError", "Picture",
           "is_photo_name", "open_picture", "thumbnail", "folder_watcher", "plot_problem",
           "write_pr_curve", "word_suggestions", "warm_words", "similarity_percent"]
