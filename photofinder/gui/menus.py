"""The main window's actions, menus and toolbar. Their keys come from gui/shortcuts.py (the
table the shortcuts sheet lists)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from photofinder.gui import file_actions
from photofinder.gui import shortcuts as K
from photofinder.gui.icons import icon


def _action(w, text, slot, key: K.Key | None = None, icon_name=None, tip=None) -> QAction:
    a = QAction(icon(icon_name), text, w) if icon_name else QAction(text, w)
    if key is not None:
        a.setShortcuts(key.sequences())
    if tip:
        a.setToolTip(tip + (f" ({key.shown()})" if key is not None else ""))
        a.setStatusTip(tip)
    a.triggered.connect(lambda _=False: slot())
    w.addAction(a)
    return a


def build_menus(w) -> None:
    A = lambda *args, **kw: _action(w, *args, **kw)  # noqa: E731
    w.act_add = A("&Add folder…", w.add_folder_dialog, K.ADD_FOLDER, "add-folder",
                  "Add a folder of photos to the library")
    w.act_open = A("&Open photo to search…", w.open_dialog, K.OPEN,
                   "open", "Find photos similar to any picture, in the library or not")
    w.act_search = A("&Search", w.focus_search, K.SEARCH, None, "Put the cursor in the search box")
    w.act_similar = A("Find &similar", w.find_similar_current, K.FIND_SIMILAR, "find-similar",
                      "Find photos similar to the selected one")
    w.act_preview = A("&Preview", w.preview_current, None, None)
    w.act_show = A("Show in &folder", lambda: w._on_current(file_actions.show_in_folder),
                   None, "folder")
    w.act_external = A("Open with &default app",
                       lambda: w._on_current(file_actions.open_external), None, "open-external")
    w.act_library = A("&Library", w.show_library, K.LIBRARY, "library", "All photos in the library")
    w.act_duplicates = A("&Duplicates", w.show_duplicates, K.DUPLICATES, "duplicates",
                         "Copies of the same photo, and which one to keep")
    w.act_back = A("&Back", w.go_back, K.BACK, None, "Back to where you were")
    w.act_shortcuts = A("&Keyboard shortcuts", w.show_shortcuts, K.SHORTCUTS, None,
                        "Every keyboard shortcut")
    w.act_guide = A("photofinder &guide", w.show_guide, K.GUIDE, None,
                    "How to use photofinder (shipped with the app, no network)")
    w.act_about = A("&About photofinder", w.about, None, "about")
    w.act_quit = A("&Quit", w.close, K.QUIT)
    w.act_trash = w.cleanup.act_trash
    w.act_trash.triggered.connect(lambda _=False: w.trash_selected())
    w.act_undo = w.cleanup.act_undo
    bar = w.menuBar()
    m = bar.addMenu("&File")
    for a in (w.act_add, w.act_open):
        m.addAction(a)
    m.addSeparator()
    m.addAction(w.act_quit)
    m = bar.addMenu("&Edit")
    m.addAction(w.act_undo)
    m.addAction(w.act_trash)
    m.addSeparator()
    m.addAction(w.act_search)
    m = bar.addMenu("&Photo")
    for a in (w.act_similar, w.act_preview, w.act_show, w.act_external):
        m.addAction(a)
    m = bar.addMenu("&View")
    m.addAction(w.act_library)
    m.addAction(w.act_duplicates)
    m.addAction(w.act_back)
    m.addSeparator()
    m.addAction(w.folders_dock.toggleViewAction())
    m.addAction(w.errors_dock.toggleViewAction())
    m = bar.addMenu("&Help")
    for a in (w.act_guide, w.act_shortcuts):
        m.addAction(a)
    m.addSeparator()
    m.addAction(w.act_about)
    tb = w.addToolBar("Main")
    tb.setObjectName("main-toolbar")
    tb.setMovable(False)
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for a in (w.act_add, w.act_open, None, w.act_library, w.act_duplicates, None,
              w.act_similar, w.act_undo):
        tb.addSeparator() if a is None else tb.addAction(a)
    w.toolbar = tb
