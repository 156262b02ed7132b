"""Move to trash (Delete) and Undo (Ctrl+Z): confirmation, the writer worker does the work
(``Library.trash`` / ``undo``: journaled, each file checked at the moment of the move, and
the last copy of a photo never trashed), then a clear account of what moved, what stayed and
why, and what could not be put back."""

from __future__ import annotations

import os

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox

from photofinder.gui.icons import icon
from photofinder.gui.signals import emit


def _names(paths: list[str], limit: int = 6) -> str:
    shown = [os.path.basename(p) for p in paths[:limit]]
    more = len(paths) - len(shown)
    return "\n".join(f"• {n}" for n in shown) + (f"\n… and {more} more" if more > 0 else "")


def _reasons(why_by_path: dict[str, str], limit: int = 8) -> str:
    lines = [f"• {os.path.basename(p)}: {why}" for p, why in list(why_by_path.items())[:limit]]
    more = len(why_by_path) - len(lines)
    return "\n".join(lines) + (f"\n… and {more} more" if more > 0 else "")


class Cleanup(QObject):
    trashed = Signal(list)  # paths that went to the trash
    restored = Signal(list)  # paths put back by undo

    def __init__(self, window, indexer):
        super().__init__(window)
        self.window, self.indexer = window, indexer
        self.confirm = True  # tests and "Move others to trash" (already confirmed) turn it off
        self.act_trash = QAction(icon("trash"), "Move to &trash…", window)
        self.act_trash.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.act_trash.setToolTip("Move the selected copies to the system trash (undo with Ctrl+Z)")
        self.act_undo = QAction(icon("undo"), "&Undo", window)
        self.act_undo.setToolTip("Put back what was last moved to the trash (Ctrl+Z)")
        self.act_undo.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self.act_undo.triggered.connect(lambda _=False: self.undo())
        indexer.cleaned.connect(self._on_cleaned)

    def ask_trash(self, paths: list, groups=None) -> bool:
        if not paths:
            return False
        if self.confirm:
            n = len(paths)
            what = f"these {n} photos" if n > 1 else f"“{os.path.basename(paths[0])}”"
            answer = QMessageBox.question(
                self.window, "Move to trash",
                f"Move {what} to the system trash?\n\n{_names(paths)}\n\nYou can put "
                "them back with Edit › Undo (Ctrl+Z). photofinder never trashes the last "
                "copy of a photo.")
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self.indexer.submit(self.indexer.do_trash, list(paths), groups)
        return True

    def undo(self) -> None:
        self.indexer.submit(self.indexer.do_undo)

    def _on_cleaned(self, kind: str, result) -> None:
        bar = self.window.statusBar()
        if kind == "trash":
            if result.trashed:
                bar.showMessage(f"Moved {len(result.trashed)} photo"
                                f"{'s' if len(result.trashed) != 1 else ''} to the trash. "
                                "Ctrl+Z puts them back.", 15000)
                emit(self.trashed, list(result.trashed))
            if getattr(result, "error", None):
                QMessageBox.warning(
                    self.window, "Clean-up stopped",
                    f"The clean-up stopped: {result.error}\n\n{len(result.trashed)} photo(s) "
                    "had been moved to the trash before that; Edit › Undo puts them back.")
            if result.refused:
                QMessageBox.information(
                    self.window, "Kept",
                    "photofinder moves a copy only when it is still the file that was compared, "
                    "and never the last copy of a photo. These stay where they are:\n\n"
                    + _reasons(result.refused))
            if getattr(result, "by_hand", False) and result.trashed:
                bar.showMessage("Moved to the system trash; to undo, restore them from the Trash.",
                                15000)
        elif kind == "undo":
            bar.showMessage(f"Put back {len(result)} photo{'s' if len(result) != 1 else ''}.",
                            15000)
            emit(self.restored, list(result))
            blocked = getattr(result, "blocked", {})
            if blocked:
                QMessageBox.warning(
                    self.window, "Not put back",
                    f"{len(blocked)} photo(s) could not be put back:\n\n" + _reasons(blocked))
