"""The main window's actions, menus and toolbar (shortcuts: Ctrl+F find similar, Ctrl+O open
a photo to search, Ctrl+1 library, Ctrl+2 duplicates, Delete trash, Ctrl+Z undo)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from photofinder.gui import file_actions
from photofinder.gui.icons import icon


def _action(w, text, slot, shortcut=None, icon_name=None, tip=None) -> QAction:
    a = QAction(icon(icon_name), text, w) if icon_name else QAction(text, w)
    if shortcut:
        a.setShortcut(QKeySequence(shortcut))
    if tip:
        a.setToolTip(tip)
        a.setStatusTip(tip)
    a.triggered.connect(lambda _=False: slot())
    w.addAction(a)
    return a


def build_menus(w) -> None:
    A = lambda *args, **kw: _action(w, *args, **kw)  # noqa: E731
    w.act_add = A("&Add folder…", w.add_folder_dialog, "Ctrl+Shift+O", "add-folder",
                  "Add a folder of photos to the library")
    w.act_open = A("&Open photo to search…", w.open_dialog, QKeySequence.StandardKey.Open,
                   "open", "Find photos similar to any picture, in the library or not")
    w.act_similar = A("Find &similar", w.find_similar_current, "Ctrl+F", "find-similar",
                      "Find photos similar to the selected one")
    w.act_preview = A("&Preview", w.preview_current, None, None)
    w.act_show = A("Show in &folder", lambda: w._on_current(file_actions.show_in_folder),
                   None, "folder")
    w.act_external = A("Open with &default app",
                       lambda: w._on_current(file_actions.open_external), None, "open-external")
    w.act_library = A("&Library", w.show_library, "Ctrl+1", "library", "All photos in the library")
    w.act_duplicates = A("&Duplicates", w.show_duplicates, "Ctrl+2", "duplicates",
                         "Copies of the same photo, and which one to keep")
    w.act_back = A("Back to library", w.show_library, "Esc")
    w.act_about = A("&About photofinder", w.about, None, "about")
    w.act_quit = A("&Quit", w.close, QKeySequence.StandardKey.Quit)
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
    m = bar.addMenu("&Photo")
    for a in (w.act_similar, w.act_preview, w.act_show, w.act_external):
        m.addAction(a)
    m = bar.addMenu("&View")
    m.addAction(w.act_library)
    m.addAction(w.act_duplicates)
    m.addSeparator()
    m.addAction(w.folders_dock.toggleViewAction())
    m.addAction(w.errors_dock.toggleViewAction())
    bar.addMenu("&Help").addAction(w.act_about)
    tb = w.addToolBar("Main")
    tb.setObjectName("main-toolbar")
    tb.setMovable(False)
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for a in (w.act_add, w.act_open, None, w.act_library, w.act_duplicates, None,
              w.act_similar, w.act_undo):
        tb.addSeparator() if a is None else tb.addAction(a)
    w.toolbar = tb
