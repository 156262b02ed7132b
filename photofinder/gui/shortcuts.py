"""Every keyboard shortcut of the app, in one table: the actions take their keys from here and
the shortcuts sheet (``?``, Help › Keyboard shortcuts) lists the same table, so the two never
disagree."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QKeySequence


@dataclass(frozen=True)
class Key:
    keys: tuple[str, ...]  # QKeySequence strings, the first one shown in menus
    what: str

    def sequences(self) -> list[QKeySequence]:
        return [QKeySequence(k) for k in self.keys]

    def shown(self) -> str:
        return " or ".join(QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText)
                           for k in self.keys)


# everywhere
SEARCH = Key(("Ctrl+F",), "Search: put the cursor in the search box")
WORDS = Key(("Ctrl+K",), "Search by words: put the cursor in the word search box")
FIND_SIMILAR = Key(("Ctrl+Shift+F",), "Find photos similar to the selected one")
OPEN = Key(("Ctrl+O",), "Open a photo (from anywhere) to search by it")
ADD_FOLDER = Key(("Ctrl+Shift+O",), "Add a folder of photos")
LIBRARY = Key(("Ctrl+1",), "Library: every photo")
DUPLICATES = Key(("Ctrl+2",), "Duplicates: review copies and similar shots")
MAP = Key(("Ctrl+3",), "Map: similar photos close together")
BACK = Key(("Esc", "Alt+Left", "Backspace"), "Back to where you were (also the mouse's back button)")
TRASH = Key(("Del",), "Move to the trash (the selected photos, or the marked copies)")
UNDO = Key(("Ctrl+Z",), "Undo the last move to the trash")
SHORTCUTS = Key(("?",), "This list of shortcuts")
GUIDE = Key(("F1",), "The guide")
QUIT = Key(("Ctrl+Q",), "Quit")

# in a grid of photos
GRID = [
    Key(("Left", "Right", "Up", "Down"), "Move between photos (Shift: select several)"),
    Key(("Return", "Space"), "Preview the photo (Left and Right: the next and previous)"),
    Key(("Down",), "From the search box: into the photos"),
]

# the duplicates review
NEXT_GROUP = Key(("Down", "PgDown"), "Next group")
PREV_GROUP = Key(("Up", "PgUp"), "Previous group")
NEXT_MEMBER = Key(("Right",), "Next photo in the group (compared with the one kept)")
PREV_MEMBER = Key(("Left",), "Previous photo in the group")
KEEP = Key(("K",), "Keep this photo instead (remembered)")
MARK = Key(("Space",), "Mark or unmark this copy for the trash")
NOT_COPY = Key(("N",), "Not a copy: never group these two again")
TRASH_GROUP = Key(("Del",), "Move the marked copies of this group to the trash")
ZOOM_IN = Key(("+", "="), "Compare: zoom in (both photos)")
ZOOM_OUT = Key(("-",), "Compare: zoom out")
ZOOM_FIT = Key(("0",), "Compare: fit")
ZOOM_100 = Key(("1",), "Compare: actual pixels")

REVIEW = [NEXT_GROUP, PREV_GROUP, NEXT_MEMBER, PREV_MEMBER, KEEP, MARK, NOT_COPY, TRASH_GROUP,
          UNDO, ZOOM_IN, ZOOM_OUT, ZOOM_FIT, ZOOM_100]

SHEET: list[tuple[str, list[Key]]] = [
    ("Everywhere", [SEARCH, WORDS, FIND_SIMILAR, OPEN, ADD_FOLDER, LIBRARY, DUPLICATES, MAP, BACK,
                    TRASH, UNDO, SHORTCUTS, GUIDE, QUIT]),
    ("Photos", GRID),
    ("Reviewing duplicates", REVIEW),
]
