"""Item models for the grids: the whole library (sorted, filtered) and a search's results.

Both are flat lists over data built off the UI thread (``queries.PhotoTable``, a list of
``Match``); ``data()`` does no I/O: thumbnails come from the ThumbnailLoader's memory or are
queued there, and ``ready(path)`` turns into a ``dataChanged`` for that one row.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt

from photofinder.gui.queries import PhotoTable
from photofinder.gui.thumbnails import ThumbnailLoader
from photofinder.library import Match, similarity_percent
from photofinder.gui.signals import emit

PathRole = Qt.ItemDataRole.UserRole + 1
ScoreRole = Qt.ItemDataRole.UserRole + 2
StateRole = Qt.ItemDataRole.UserRole + 3  # "loading", "ok", "broken", "pending", "failed"
BadgeRole = Qt.ItemDataRole.UserRole + 4  # a result's score as shown ("84%"), or None
SORTS = ("date", "name", "folder")


def value(index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
    """``index.data(role)`` without a trip through QVariant: PySide6 6.12 turns an empty
    QVariant into ``None`` without a reference to it (each such call takes one away from
    ``None`` until Python aborts), so our own code asks our Python models directly."""
    if not index.isValid():
        return None
    return index.model().data(index, role)


class _ThumbModel(QAbstractListModel):
    def __init__(self, loader: ThumbnailLoader, parent=None):
        super().__init__(parent)
        self.loader = loader
        self._rows_of: dict[str, list[int]] = {}
        loader.ready.connect(self._on_ready)

    def path_at(self, row: int) -> str:
        raise NotImplementedError

    def _index_paths(self) -> None:
        self._rows_of = {}
        for row in range(self.rowCount()):
            self._rows_of.setdefault(self.path_at(row), []).append(row)

    def _on_ready(self, path: str) -> None:
        for row in self._rows_of.get(path, ()):
            ix = self.index(row)
            emit(self.dataChanged, ix, ix, [Qt.ItemDataRole.DecorationRole])

    def _thumb(self, path: str, role):
        if role == Qt.ItemDataRole.DecorationRole:
            return self.loader.get(path)
        if role == StateRole:
            if path in self.loader.failed:
                return "broken"
            return "ok" if self.loader.get(path) is not None else "loading"
        return None

    def row_of(self, path: str) -> int:
        rows = self._rows_of.get(path)
        return rows[0] if rows else -1


class LibraryModel(_ThumbModel):
    """Every photo in the library: ``set_table`` (from the worker), ``set_sort``, ``set_filter``."""

    def __init__(self, loader: ThumbnailLoader, parent=None):
        super().__init__(loader, parent)
        self.table = PhotoTable()
        self.sort_key = "date"
        self.needle = ""
        self._order: list[int] = []

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._order)

    def path_at(self, row: int) -> str:
        return self.table.paths[self._order[row]]

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._order):
            return None
        i = self._order[index.row()]
        path = self.table.paths[i]
        if role == Qt.ItemDataRole.DisplayRole:
            return os.path.basename(path)
        if role == Qt.ItemDataRole.ToolTipRole:
            state = {"pending": " (not indexed yet)", "failed": " (could not be indexed)"}
            return f"{path}\n{self.table.dates[i]}{state.get(self.table.status[i], '')}"
        if role == PathRole:
            return path
        if role == StateRole and self.table.status[i] in ("pending", "failed") \
                and path not in self.loader.failed:
            self.loader.get(path)
            return self.table.status[i]
        return self._thumb(path, role)

    def set_table(self, table: PhotoTable) -> None:
        self.table = table
        self._refresh()

    def set_sort(self, key: str) -> None:
        if key in SORTS and key != self.sort_key:
            self.sort_key = key
            self._refresh()

    def set_filter(self, text: str) -> None:
        needle = text.strip().lower()
        if needle != self.needle:
            self.needle = needle
            self._refresh()

    def _refresh(self) -> None:
        self.beginResetModel()
        order = self.table.orders.get(self.sort_key, list(range(len(self.table))))
        if self.needle:
            names, needle = self.table.names, self.needle
            order = [i for i in order if needle in names[i]]
        self._order = order
        self._index_paths()
        self.endResetModel()

    @property
    def total(self) -> int:
        return len(self.table)


class ResultsModel(_ThumbModel):
    """A search's matches, best first, showing those at or above ``threshold`` (a fraction
    of the calibrated scale: the chance of the same place or object; library's
    ``similarity_percent``). ``scale``: "similar" (that chance, in %), "words" (a word
    search's own score, never a %; nothing hidden by the slider) or None (photos without a
    score: the map's choice)."""

    def __init__(self, loader: ThumbnailLoader, parent=None):
        super().__init__(loader, parent)
        self.matches: list[Match] = []
        self.threshold = 0.0
        self.scale: str | None = "similar"
        self._shown: list[Match] = []

    @property
    def scored(self) -> bool:
        """The slider means something: the calibrated similarity scale."""
        return self.scale == "similar"

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._shown)

    def path_at(self, row: int) -> str:
        return self._shown[row].path

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._shown):
            return None
        m = self._shown[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return os.path.basename(m.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            said = {"similar": "\nyou marked it similar",
                    "not_similar": "\nyou marked it not similar"}.get(m.mark or "", "")
            if self.scale == "words":
                return f"{m.path}\nmatches the words: {m.score:.2f} (1 is the best)"
            if not self.scored:
                return m.path
            return (f"{m.path}\n{similarity_percent(m.score)}% likely the same place or "
                    f"object{said}")
        if role == PathRole:
            return m.path
        if role == ScoreRole:
            return similarity_percent(m.score) if self.scored else \
                m.score if self.scale == "words" else None
        if role == BadgeRole:
            return f"{similarity_percent(m.score)}%" if self.scored else \
                f"{m.score:.2f}" if self.scale == "words" else None
        return self._thumb(m.path, role)

    def set_matches(self, matches: list[Match], scale: str | None = "similar") -> None:
        # the user's marks first ("similar") and last ("not similar"), then by score
        first_last = {"similar": -1, "not_similar": 1}
        self.scale = scale
        self.matches = sorted(matches, key=lambda m: (first_last.get(m.mark or "", 0), -m.score))
        self._refresh()

    def set_threshold(self, threshold: float) -> None:
        if threshold != self.threshold:
            self.threshold = threshold
            self._refresh()

    def _refresh(self) -> None:
        self.beginResetModel()
        self._shown = [m for m in self.matches if not self.scored
                       or similarity_percent(m.score) >= round(self.threshold * 100)]
        self._index_paths()
        self.endResetModel()

    def remove_paths(self, paths: set[str]) -> None:
        self.matches = [m for m in self.matches if m.path not in paths]
        self._refresh()
