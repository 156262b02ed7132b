"""Side panels: the folders list (add/remove, online/offline, counts) and the errors list."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from photofinder import demo
from photofinder.gui.icons import icon
from photofinder.gui.signals import emit
from photofinder.library import FolderInfo, Problem


class FoldersPanel(QWidget):
    add_requested = Signal()
    remove_requested = Signal(str)
    folder_selected = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.list = QListWidget()
        self.list.setAlternatingRowColors(False)
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.currentItemChanged.connect(self._on_current)
        lay.addWidget(self.list)
        row = QHBoxLayout()
        self.add_button = QPushButton(icon("add-folder"), "Add folder…")
        self.add_button.clicked.connect(self.add_requested)
        self.remove_button = QPushButton(icon("close"), "Remove")
        self.remove_button.setToolTip("Forget this folder (the photos on disk are not touched)")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self._on_remove)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        lay.addLayout(row)

    def set_folders(self, folders: list[FolderInfo]) -> None:
        current = self.current_path()
        self.list.clear()
        for f in folders:
            name = "Demo photos" if demo.is_demo_folder(f.path) else f.path
            n = f.photos
            text = f"{name}\n{n:,} photo{'s' if n != 1 else ''}"
            if not f.online:
                text += " · offline"
            item = QListWidgetItem(icon("folder" if f.online else "folder-offline"), text)
            item.setData(Qt.ItemDataRole.UserRole, f.path)
            item.setToolTip(f.path + ("" if f.online else "\nnot reachable now (drive "
                                         "unplugged?); its photos stay in the library"))
            self.list.addItem(item)
            if f.path == current:
                self.list.setCurrentItem(item)

    def current_path(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _on_current(self, item, _prev) -> None:
        self.remove_button.setEnabled(item is not None)

    def _on_remove(self) -> None:
        path = self.current_path()
        if path:
            emit(self.remove_requested, path)


class ErrorsPanel(QWidget):
    """Files that could not be indexed, with the reason."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.summary = QLabel("No problems.")
        lay.addWidget(self.summary)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["File", "Folder", "Reason"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideLeft)  # a folder's end tells it apart
        lay.addWidget(self.table)

    def set_errors(self, errors: list[Problem]) -> None:
        self.table.setRowCount(len(errors))
        for row, e in enumerate(errors):
            for col, text in enumerate((os.path.basename(e.path), os.path.dirname(e.path),
                                        e.error)):
                item = QTableWidgetItem(text)
                item.setToolTip(e.path if col < 2 else text)
                item.setData(Qt.ItemDataRole.UserRole, e.path)
                self.table.setItem(row, col, item)
        if errors:
            self.table.resizeColumnToContents(0)
            self.table.setColumnWidth(1, max(220, int(self.table.viewport().width() * 0.3)))
        folders = sum(e.kind == "folder" for e in errors)
        n = len(errors) - folders
        said = ([f"{n} file{'s' if n != 1 else ''} could not be indexed"] if n else []) + \
            ([f"{folders} folder{'s' if folders != 1 else ''} cannot be read (the photos "
              "known in them are kept, offline)"] if folders else [])
        self.summary.setText("No problems." if not said else
                             "; ".join(said) + ". They stay listed here until they are fixed "
                             "or removed.")

    def paths(self) -> list[str]:
        return [item.data(Qt.ItemDataRole.UserRole) for r in range(self.table.rowCount())
                if (item := self.table.item(r, 0)) is not None]
