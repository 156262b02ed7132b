"""The library: every photo in one virtualised grid, with a name filter and a sort order."""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from photofinder.gui.empty_state import DemoBanner
from photofinder.gui.grid import add_grid_with_placeholder
from photofinder.gui.models import LibraryModel
from photofinder.gui.queries import PhotoTable
from photofinder.gui.thumbnails import ThumbnailLoader

SORT_LABELS = {"date": "Newest first", "name": "Name", "folder": "Folder"}


class LibraryView(QWidget):
    def __init__(self, loader: ThumbnailLoader, parent=None):
        super().__init__(parent)
        self.model = LibraryModel(loader, self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 6, 8, 6)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by file name")
        self.filter.setClearButtonEnabled(True)
        self.filter.setMaximumWidth(320)
        self._filter_timer = QTimer(self, singleShot=True, interval=120)
        self._filter_timer.timeout.connect(lambda: self._apply_filter())
        self.filter.textChanged.connect(lambda _t: self._filter_timer.start())
        self.filter.installEventFilter(self)  # Down, Enter: into the grid
        bar.addWidget(self.filter)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Sort:"))
        self.sort = QComboBox()
        for key, label in SORT_LABELS.items():
            self.sort.addItem(label, key)
        self.sort.currentIndexChanged.connect(
            lambda i: self.model.set_sort(self.sort.itemData(i)) or self._update_count())
        bar.addWidget(self.sort)
        bar.addStretch()
        self.count = QLabel("")
        self.count.setStyleSheet("color: palette(placeholder-text);")
        bar.addWidget(self.count)
        lay.addLayout(bar)
        self.banner = DemoBanner()
        banner_row = QHBoxLayout()
        banner_row.setContentsMargins(8, 0, 8, 6)
        banner_row.addWidget(self.banner)
        lay.addLayout(banner_row)
        self.banner.hide()
        self.grid, self.placeholder = add_grid_with_placeholder(lay, self.model)

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """In the filter, Down, Page Down, Enter and Return go on to the photos (the first
        one, when none is current yet), as in a file manager's location bar."""
        if obj is self.filter and e.type() == QEvent.Type.KeyPress and cast(QKeyEvent, e).key() in (
                Qt.Key.Key_Down, Qt.Key.Key_PageDown, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self._filter_timer.isActive():
                self._filter_timer.stop()
                self._apply_filter()
            if self.model.rowCount():
                if not self.grid.currentIndex().isValid() or \
                        self.grid.currentIndex().row() >= self.model.rowCount():
                    self.grid.setCurrentIndex(self.model.index(0))
                self.grid.setFocus(Qt.FocusReason.TabFocusReason)
            return True
        return super().eventFilter(obj, e)

    def set_table(self, table: PhotoTable) -> None:
        current = self.grid.current_path()
        scroll = self.grid.verticalScrollBar().value()
        self.model.set_table(table)
        if current:
            row = self.model.row_of(current)
            if row >= 0:
                self.grid.setCurrentIndex(self.model.index(row))
        self.grid.verticalScrollBar().setValue(scroll)
        self._update_count()

    def _apply_filter(self) -> None:
        self.model.set_filter(self.filter.text())
        self._update_count()

    def set_sort_key(self, key: str) -> None:
        i = self.sort.findData(key)
        if i >= 0:
            self.sort.setCurrentIndex(i)

    def _update_count(self) -> None:
        shown, total = self.model.rowCount(), self.model.total
        if self.model.needle:
            self.count.setText(f"{shown:,} of {total:,} photos")
        else:
            self.count.setText(f"{total:,} photo{'s' if total != 1 else ''}")
        empty = shown == 0
        self.grid.setVisible(not empty)
        self.placeholder.setVisible(empty)
        self.placeholder.setText(f"No file name contains “{self.filter.text().strip()}”."
                                 if total else "Looking for photos…")
