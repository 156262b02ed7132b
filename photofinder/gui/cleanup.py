"""Move to trash (Delete) and Undo (Ctrl+Z). A photo the user picks goes as in a file manager
(``Library.trash_photos``); copies in the duplicates review are asked about first and go by
the clean-up's rules (``Library.trash``: the last copy of a photo never). Both are journaled,
each file checked at the moment of its move, and undoable; the writer worker does the work.
Then the status bar says what happened ("3 files moved to the trash · Undo", the Undo a link),
and a dialog only for what stayed and why, or what could not be put back."""

from __future__ import annotations

import os

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMessageBox

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


def files(n: int) -> str:
    return f"{n:,} file{'s' if n != 1 else ''}"


class ActionNote(QLabel):
    """The status bar's word after an action: "3 files moved to the trash · Undo", the Undo a
    link; it stays a while (a minute), then goes."""

    undo_clicked = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse |
                                     Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.linkActivated.connect(lambda _link: emit(self.undo_clicked))
        self._timer = QTimer(self, singleShot=True, interval=60_000)
        self._timer.timeout.connect(self.clear_note)
        self.hide()

    def say(self, text: str, undo: bool = False) -> None:
        self.plain = text + (" · Undo" if undo else "")
        self.setText(text + (' · <a href="undo">Undo</a>' if undo else ""))
        self.setToolTip("Ctrl+Z puts them back" if undo else "")
        self.show()
        self._timer.start()

    def clear_note(self) -> None:
        self.plain = ""
        self.clear()
        self.hide()

    plain = ""


class Cleanup(QObject):
    trashed = Signal(list)  # paths that went to the trash
    restored = Signal(list)  # paths put back by undo

    def __init__(self, window, indexer):
        super().__init__(window)
        self.window, self.indexer = window, indexer
        self.confirm = True  # tests and "Move others to trash" (already confirmed) turn it off
        self.act_trash = QAction(icon("trash"), "Move to &trash", window)
        self.act_trash.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.act_trash.setToolTip("Move the selected photos to the system trash (Ctrl+Z puts "
                                  "them back)")
        self.act_undo = QAction(icon("undo"), "&Undo", window)
        self.act_undo.setToolTip(self.UNDO_TIP)
        self.act_undo.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self.act_undo.triggered.connect(lambda _=False: self.undo())
        self.note = ActionNote()
        self.note.undo_clicked.connect(self.undo)
        indexer.cleaned.connect(self._on_cleaned)

    UNDO_TIP = "Put back what was last moved to the trash (Ctrl+Z)"

    def set_undoable(self, can: bool) -> None:
        """Undo is enabled only when there is something to put back; else it says so."""
        self.act_undo.setEnabled(can)
        self.act_undo.setToolTip(self.UNDO_TIP if can else
                                 "Nothing to undo: nothing moved to the trash is waiting")

    def trash_photos(self, paths: list) -> bool:
        """Photos the user chose (Delete, or a photo's menu): they go, as in a file manager,
        journaled; the status bar says so with an Undo link. No question first: nothing is
        lost, and nothing is refused after."""
        if not paths:
            return False
        self.indexer.submit(self.indexer.do_trash_photos, list(paths))
        return True

    def ask_trash(self, paths: list, groups=None) -> bool:
        """Copies of duplicate groups (the duplicates review): asked first, then the clean-up's
        rules (never the last copy, each copy still the file that was compared)."""
        if not paths:
            return False
        if self.confirm:
            n = len(paths)
            what = f"these {n} copies" if n > 1 else f"“{os.path.basename(paths[0])}”"
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
        if kind == "trash":
            if result.trashed:
                if getattr(result, "by_hand", False):  # macOS/Windows: the Trash's own restore
                    self.note.say(f"{files(len(result.trashed))} moved to the trash; restore "
                                  "them from the Trash")
                else:
                    self.note.say(f"{files(len(result.trashed))} moved to the trash", undo=True)
                    self.set_undoable(True)
                emit(self.trashed, list(result.trashed))
            if getattr(result, "error", None):
                QMessageBox.warning(
                    self.window, "Clean-up stopped",
                    f"The clean-up stopped: {result.error}\n\n{files(len(result.trashed))} "
                    "had been moved to the trash before that; Edit › Undo puts them back.")
            if result.refused:
                QMessageBox.information(
                    self.window, "Kept",
                    "photofinder moves a copy only when it is still the file that was compared, "
                    "and never the last copy of a photo. These stay where they are:\n\n"
                    + _reasons(result.refused))
        elif kind == "undo":
            self.note.say(f"{files(len(result))} put back")
            emit(self.restored, list(result))
            blocked = getattr(result, "blocked", {})
            if blocked:
                QMessageBox.warning(
                    self.window, "Not put back",
                    f"{files(len(blocked))} could not be put back:\n\n" + _reasons(blocked))
