"""The main window: views in a stack (welcome, library, results, duplicates), the folders and
errors panels, the status bar; wires user actions to the two workers. Each question to the
reader carries its own reply (``ask``). The map, learning and the word search are controllers
the window owns (``map``, ``learning``, ``words``), each holding its own widgets and actions.
"""

from __future__ import annotations

import dataclasses
import os

from PySide6.QtCore import QByteArray, QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QHBoxLayout, QMainWindow,
                               QMenu, QMessageBox, QStackedWidget, QToolBar, QVBoxLayout,
                               QWidget)

from photofinder import demo
from photofinder.gui import file_actions
from photofinder.gui.cleanup import Cleanup
from photofinder.gui.duplicates_view import DuplicatesView
from photofinder.gui.empty_state import EmptyState, ModelBanner
from photofinder.gui.help import GuideDialog, ShortcutsSheet
from photofinder.gui.icons import icon
from photofinder.gui.learning import LearningController
from photofinder.gui.library_view import LibraryView
from photofinder.gui.map_controller import MapController
from photofinder.gui.menus import build_menus
from photofinder.gui.panels import ErrorsPanel, FoldersPanel
from photofinder.gui.preview import PreviewDialog
from photofinder.gui import queries
from photofinder.gui.queries import Failure
from photofinder.gui.multi_search import similar_many
from photofinder.library import DEFAULT_SENSITIVITY, FolderInfo, Group, Status, folder_watcher
from photofinder.gui.results_view import ResultsView
from photofinder.gui.status import IndexStatus
from photofinder.gui.thumbnails import ThumbnailLoader
from photofinder.gui.word_search import WordSearchController
from photofinder.gui.workers import IndexWorker, QueryWorker
from photofinder.gui.signals import emit

IMAGE_FILTER = "Photos (*.jpg *.jpeg *.png *.webp *.tif *.tiff *.heic *.heif *.avif *.bmp *.gif)"


class MainWindow(QMainWindow):
    results_shown = Signal(str)  # query path, once its results are on screen
    similar_answered = Signal()  # a Find similar by one photo answered (results or why not)
    # what menus.build_menus makes (the ones this class and its controllers use)
    act_open: QAction
    act_similar: QAction
    act_duplicates: QAction
    act_search: QAction
    toolbar: QToolBar

    def __init__(self, library_path: str, provider: str | None = None, image: str | None = None,
                 demo_allowed: bool = True, watch: bool = True):
        super().__init__()
        self.library_path = os.path.abspath(library_path)
        os.makedirs(self.library_path, exist_ok=True)
        self.settings = QSettings(os.path.join(self.library_path, "gui.ini"),
                                  QSettings.Format.IniFormat)
        # (not value(..., type=bool): that path of PySide6 mis-counts references to False)
        dismissed = str(self.settings.value("demo/dismissed", "false")).lower() == "true"
        self.demo_allowed = demo_allowed and not dismissed
        self.watch_enabled = watch
        self.start_image = image
        self.folders: list[FolderInfo] | None = None
        self.status: Status | None = None
        self._search = 0  # the current search: a newer one makes an older one's answer stale
        self.search_query = ""
        self._watcher = None
        self._watched: list[str] | None = None
        self._history = []  # views to go back to, the last one last
        self._tips = {}  # the tooltips of actions that wait for the model
        self.setWindowTitle("photofinder")
        self.setWindowIcon(icon("photofinder"))
        self.setAcceptDrops(True)
        self.resize(1200, 800)

        self.indexer = IndexWorker(self.library_path, provider, self)
        self.query = QueryWorker(self.library_path, provider, self)
        self.cleanup = Cleanup(self, self.indexer)
        self.loader = ThumbnailLoader(os.path.join(self.library_path, "thumbs"), parent=self)
        self.stack = QStackedWidget()
        self.empty = EmptyState()
        self.library = LibraryView(self.loader)
        self.results = ResultsView(self.loader)
        self.duplicates = DuplicatesView(self.loader)
        for w in (self.empty, self.library, self.results, self.duplicates):
            self.stack.addWidget(w)
        self.model_banner = ModelBanner()  # over every view while there is no model
        central = QWidget()
        col = QVBoxLayout(central)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        banner_row = QHBoxLayout()
        banner_row.setContentsMargins(8, 6, 8, 0)
        banner_row.addWidget(self.model_banner)
        col.addLayout(banner_row)
        col.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.preview = PreviewDialog(self)
        self._build_panels()
        self._build_actions()
        self._connect_views()
        self.map = MapController(self)  # the map (issue 14)
        self.learning = LearningController(self)  # marks on results, learning (issue 14)
        self.words = WordSearchController(self)  # search by words (issue 25)

        self.indexer.phase.connect(self._on_phase)
        self.indexer.progress.connect(self.index_status.set_progress)
        self.indexer.changed.connect(lambda: self.ask_photos() or self.ask_status())
        self.indexer.indexed.connect(self.ask_status)
        self.indexer.checking.connect(self.index_status.set_check_progress)
        self.indexer.checked.connect(self._on_duplicates_checked)
        self.indexer.busy.connect(lambda m: self.statusBar().showMessage(m, 15000))
        self.indexer.failed.connect(self._show_failure)
        self.indexer.needs_model.connect(self._on_needs_model)
        self.indexer.building.connect(self.model_banner.set_step)
        self.indexer.built.connect(self._on_model_built)
        self.model_banner.build_requested.connect(
            lambda: self.indexer.submit(self.indexer.do_build_model))
        self.query.failed.connect(self._show_failure)
        self._status_timer = QTimer(self, singleShot=True, interval=500)
        self._status_timer.timeout.connect(self.ask_status_now)
        self.indexer.start()
        self.query.start()
        self._restore_settings()
        self.ask_status_now()
        self.ask_photos()
        if image:
            self.search(image)
        self.ask(queries.warm, reply=self._on_warm)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)  # the mouse's back button, anywhere

    def eventFilter(self, obj, e) -> bool:  # noqa: N802 (Qt's name)
        if e.type() == QEvent.Type.MouseButtonRelease and \
                e.button() == Qt.MouseButton.BackButton and isinstance(obj, QWidget) and \
                obj.window() is self:
            self.go_back()
            return True
        return False

    # -- building -------------------------------------------------------------------------
    def _build_panels(self) -> None:
        self.folders_panel = FoldersPanel()
        self.folders_dock = QDockWidget("Folders", self)
        self.folders_dock.setObjectName("folders")
        self.folders_dock.setWidget(self.folders_panel)
        self.folders_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable |
                                      QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.folders_dock)
        self.errors_panel = ErrorsPanel()
        self.errors_dock = QDockWidget("Problems", self)
        self.errors_dock.setObjectName("errors")
        self.errors_dock.setWidget(self.errors_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.errors_dock)
        self.resizeDocks([self.folders_dock], [230], Qt.Orientation.Horizontal)
        self.resizeDocks([self.errors_dock], [170], Qt.Orientation.Vertical)
        self.errors_dock.hide()
        self.index_status = IndexStatus()
        self.statusBar().addPermanentWidget(self.cleanup.note)  # "3 files moved… · Undo"
        # a normal widget, not a permanent one: a message (showMessage) takes its place while
        # it lasts; as a permanent widget with stretch it left the messages no room at all
        self.statusBar().addWidget(self.index_status, 1)
        self.index_status.pause_toggled.connect(self._on_pause)
        self.index_status.errors_clicked.connect(lambda: self.errors_dock.show())

    def _build_actions(self) -> None:
        build_menus(self)

    def _connect_views(self) -> None:
        self.empty.add_requested.connect(self.add_folder_dialog)
        self.empty.open_requested.connect(self.open_dialog)
        self.empty.demo_requested.connect(self.add_demo)
        self.library.banner.add_requested.connect(self.add_folder_dialog)
        self.library.banner.remove_requested.connect(self.remove_demo)
        self.folders_panel.add_requested.connect(self.add_folder_dialog)
        self.folders_panel.remove_requested.connect(self.remove_folder)
        self.results.back_requested.connect(self.go_back)
        for grid in (self.library.grid, self.results.grid):
            grid.menu_requested.connect(self.show_context_menu)
            grid.preview_requested.connect(self.preview.show_path)
        self.preview.find_similar.connect(self.search)
        self.preview.find_region.connect(self.search)
        self.duplicates.compare_view.find_region.connect(self.search)
        self.preview.show_in_folder.connect(file_actions.show_in_folder)
        self.preview.open_external.connect(file_actions.open_external)
        self.preview.navigate.connect(self._preview_step)
        self.duplicates.trash_requested.connect(self.cleanup.ask_trash)
        self.duplicates.keep_requested.connect(
            lambda p: self.indexer.submit(self.indexer.do_keep, p))
        self.duplicates.not_duplicates_requested.connect(
            lambda a, b: self.indexer.submit(self.indexer.do_not_duplicates, a, b))
        self.duplicates.refresh_requested.connect(self.show_duplicates)
        self.cleanup.trashed.connect(self._on_trashed)
        self.indexer.cleaned.connect(self._on_cleaned)

    # -- queries --------------------------------------------------------------------------
    def ask(self, job, *args, reply, key=None) -> None:
        """Run a query job (a function of a reader Library) on the query worker; its answer
        (or a Failure) goes to ``reply`` on this thread. ``key``: a newer request with the
        same key replaces this one while it waits."""
        self.query.ask(job, *args, reply=reply, key=key)

    def ask_search(self, job, *args, query: str, reply, key=None) -> None:
        """A search whose answer fills the results view: ``reply`` gets it only while no
        newer search (of any kind) was asked since."""
        self._search += 1
        me = self._search
        self.search_query = query
        self.ask(job, *args, reply=lambda result: me == self._search and reply(result), key=key)

    def ask_status(self) -> None:
        """The status soon (many asks in half a second are one)."""
        if not self._status_timer.isActive():
            self._status_timer.start()

    def ask_status_now(self) -> None:
        self.ask(queries.status, reply=self._on_status, key=queries.status)

    def ask_photos(self) -> None:
        self.ask(queries.photos, reply=self._on_photos, key=queries.photos)

    def _on_photos(self, result: queries.PhotoTable | Failure) -> None:
        if isinstance(result, Failure):
            self._show_failure(f"Could not list the photos: {result.message}")
        else:
            self.library.set_table(result)

    def _on_warm(self, result) -> None:
        if isinstance(result, Failure):
            self.statusBar().showMessage(result.message, 20000)

    def _on_status(self, answer: queries.LibraryState | Failure) -> None:
        if isinstance(answer, Failure):
            self.statusBar().showMessage(answer.message, 20000)
            return
        status = answer.status
        first = self.status is None
        self.status = status
        folders = status.folders
        self.folders = folders
        self.folders_panel.set_folders(folders)
        self.errors_panel.set_errors(status.errors)
        c = status.photos
        self.index_status.set_summary(c.indexed, c.pending, len(status.errors))
        no_model = not status.has_model
        if no_model:
            self.model_banner.set_missing(status.provider if status.model == "unavailable" else "")
        elif not self.model_banner.building:
            self.model_banner.set_built()
        self._need_model(no_model)
        self.cleanup.set_undoable(answer.undo)
        only_demo = bool(self.folders) and all(demo.is_demo_folder(f.path) for f in self.folders)
        self.library.banner.setVisible(only_demo)
        if first:
            if not self.folders and self.demo_allowed and not self.start_image:
                self.add_demo()
            elif self.folders:
                self.indexer.submit(self.indexer.do_update)  # what changed while it was closed
                if self.settings.value("window/view") == "duplicates" and not self.start_image:
                    self.show_duplicates()
        watched = sorted(f.path for f in folders if f.online)
        if watched != self._watched:  # folders added, removed, plugged in or out
            self._watched = watched
            self._restart_watcher()
        if self.stack.currentWidget() in (self.empty, self.library):
            self.stack.setCurrentWidget(self.library if self.folders or self._adding
                                        else self.empty)

    _adding = False

    # -- the demo photos beside the user's own --------------------------------------------
    def _demo_roots(self) -> list[str]:
        """The demo folders, while the library also holds the user's own folders (then the
        demo photos stay out of their duplicates and their Find similar)."""
        folders = [f.path for f in self.folders or []]
        demo_roots = [p for p in folders if demo.is_demo_folder(p)]
        return demo_roots if len(demo_roots) < len(folders) else []

    def _in_demo(self, path: str, roots: list[str]) -> bool:
        return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)

    def _without_demo(self, found):
        """Duplicates less the demo photos: a group kept by one of them is not the user's to
        clean; one kept by the user's photo loses its demo members (and goes if it has no
        copy left)."""
        roots = self._demo_roots()
        if not roots:
            return found

        def mine(groups):
            out = []
            for g in groups:
                if self._in_demo(g.keep, roots):
                    continue
                members = [m for m in g.members if not self._in_demo(m.path, roots)]
                if len(members) == len(g.members):
                    out.append(g)
                elif len(members) > 1:
                    out.append(Group(g.keep, members))
            return out

        return dataclasses.replace(found, groups=mine(found.groups),
                                   similar_shots=mine(found.similar_shots))

    def _offer_demo_removal(self) -> None:
        """The user added a folder of their own: the demo photos may go now."""
        if not any(demo.is_demo_folder(f.path) for f in self.folders or []):
            return
        ok = QMessageBox.question(
            self, "Remove the demo photos?",
            "Your own photos are being added. Remove the demo photos from the library?\n\n"
            "Until you do, they stay out of your duplicates and your Find similar results; "
            "Remove demo (in the Folders panel) takes them out later.")
        if ok == QMessageBox.StandardButton.Yes:
            self.remove_demo()

    def _on_similar_one(self, result) -> None:
        emit(self.similar_answered)
        self._on_similar(result)

    def _on_similar(self, result) -> None:
        if isinstance(result, Failure):
            message = result.message
            if "model is not built" in message:  # (a photo dropped on the window, say)
                message = ("The model is not built yet: press “Build the model” at the top of "
                           "the window, then search again.")
                self.model_banner.set_missing()
            self.results.set_error(self.search_query, message)
            return
        roots = self._demo_roots()
        if roots and not self._in_demo(result.query, roots):
            result.matches = [m for m in result.matches if not self._in_demo(m.path, roots)]
        self.results.set_results(result.query, result.matches, result.outside, result.seconds,
                                 getattr(result, "region", None))
        if len(getattr(result, "queries", ())) > 1:  # several photos at once (search_many)
            self.results.title.setText(f"Photos similar to {len(result.queries)} photos")
            self.results.title.setToolTip("\n".join(result.queries + result.skipped))
        self.results.grid.setFocus()
        emit(self.results_shown, result.query)

    # -- user actions ---------------------------------------------------------------------
    def search(self, path: str, region: tuple[int, int, int, int] | None = None) -> None:
        """Find similar by a photo, or (``region``: x, y, w, h) by a part of it."""
        path = os.path.abspath(path)
        self.results.set_searching(path, region)
        self.show_view(self.results)
        self.ask_search(queries.similar, path, queries.TOP, region, query=path,
                        reply=self._on_similar_one, key=queries.similar)

    def search_many(self, paths: list[str]) -> None:
        """Several photos at once (a file manager's selection): one grid of the photos most
        like any of them (gui/multi_search.py)."""
        paths = [os.path.abspath(p) for p in paths]
        self.results.set_searching(paths[0])
        self.show_view(self.results)
        self.ask_search(similar_many, paths, query=paths[0], reply=self._on_similar)

    def current_grid(self):
        return self.results.grid if self.stack.currentWidget() is self.results else \
            self.library.grid

    def _on_current(self, fn) -> None:
        path = self.current_grid().current_path()
        if path:
            fn(path)

    def find_similar_current(self) -> None:
        self._on_current(self.search)

    def preview_current(self) -> None:
        self._on_current(self.preview.show_path)

    def _preview_step(self, step: int) -> None:
        grid = self.current_grid()
        row = grid.currentIndex().row() + step
        if 0 <= row < grid.model().rowCount():
            grid.setCurrentIndex(grid.model().index(row, 0))
            path = grid.current_path()
            if path:
                self.preview.show_path(path)

    def show_library(self) -> None:
        self.show_view(self.library if self.folders or self._adding else self.empty)
        self.library.grid.setFocus()

    def show_view(self, view) -> None:
        """Switch the stack to ``view``, remembering where the user came from (Back)."""
        here = self.stack.currentWidget()
        if here is not view:
            if here is not None and here not in (self.empty,):
                self._history = [v for v in self._history if v is not here] + [here]
            self.stack.setCurrentWidget(view)

    _history: list = []

    def go_back(self) -> None:
        """Back (Esc, Alt+Left, Backspace, the mouse's back button): to the view the user came
        from (results opened from Duplicates go back there), else the library."""
        here = self.stack.currentWidget()
        if self.preview.isVisible():
            self.preview.close()
            return
        while self._history:
            view = self._history.pop()
            if view is not here:
                self.stack.setCurrentWidget(view)
                if view is self.library:
                    self.library.grid.setFocus()
                return
        if here is not self.library:
            self.show_library()

    def focus_search(self) -> None:
        """Ctrl+F: the search box of the library view (the photos' names; the words have
        their own box, Ctrl+K)."""
        if self.stack.currentWidget() is not self.library and self.folders:
            self.show_view(self.library)
        box = self.library.filter
        box.setFocus()
        box.selectAll()

    def show_duplicates(self) -> None:
        if self.stack.currentWidget() is not self.duplicates:
            self.duplicates.set_groups([], searching=True)
            self.duplicates.checking = True
            # the last results at once, then the check
            self.ask(queries.stored_duplicates, reply=self._on_stored_duplicates)
        self.show_view(self.duplicates)
        self.check_duplicates()

    def check_duplicates(self) -> None:
        self.ask(queries.duplicates, DEFAULT_SENSITIVITY, self.duplicates.report_progress,
                 reply=self._on_duplicates, key=queries.duplicates)

    def _on_duplicates(self, result: queries.DuplicatesAnswer | Failure) -> None:
        if isinstance(result, Failure):
            self.duplicates.set_error(result.message)
            return
        self.duplicates.set_findings(self._without_demo(result.findings))
        if result.unsaved:  # a read-only library (or one another process keeps writing)
            self.statusBar().showMessage(f"Note: {result.unsaved}", 30000)

    def _on_stored_duplicates(self, result) -> None:
        if result is not None and not isinstance(result, Failure) and self.duplicates.checking:
            self.duplicates.set_findings(self._without_demo(result), checking=True)

    def _on_duplicates_checked(self) -> None:
        """The check after indexing is through: an open Duplicates view shows its results
        (its own run finds every pair checked, so it answers at once; a run of its own
        started before the indexing ended saw only part of the photos)."""
        if self.stack.currentWidget() is self.duplicates:
            self.check_duplicates()

    def trash_selected(self) -> None:
        """Delete: in a grid, the selected photos go (as in a file manager, undoable); in the
        duplicates review, the copies marked in the group shown."""
        here = self.stack.currentWidget()
        if here in (self.library, self.results):
            self.cleanup.trash_photos(self.current_grid().selected_paths())
        elif here is self.duplicates:
            self.duplicates.trash_marked()

    def _on_trashed(self, paths: list) -> None:
        self.results.model.remove_paths(set(paths))
        for p in paths:
            self.loader.forget(p)

    def _on_cleaned(self, kind: str, _result) -> None:
        if self.stack.currentWidget() is self.duplicates:
            self.check_duplicates()

    def show_context_menu(self, path: str, pos) -> None:
        m = QMenu(self)
        similar = m.addAction(icon("find-similar"), "Find similar", lambda: self.search(path))
        similar.setEnabled(self.act_similar.isEnabled())
        similar.setToolTip(self.act_similar.toolTip())
        m.setToolTipsVisible(True)
        m.addAction("Preview", lambda: self.preview.show_path(path))
        m.addSeparator()
        m.addAction(icon("folder"), "Show in folder", lambda: file_actions.show_in_folder(path))
        m.addAction(icon("open-external"), "Open with default app",
                    lambda: file_actions.open_external(path))
        m.addSeparator()
        m.addAction(icon("trash"), "Move to trash", self.trash_selected)
        self.learning.add_result_marks(m, path)
        self.context_menu = m  # tests drive it
        m.popup(pos)

    def add_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a folder of photos",
                                                os.path.expanduser("~"))
        if path:
            self.add_folder(path)

    def add_folder(self, path: str) -> None:
        self._adding = True
        self.stack.setCurrentWidget(self.library)
        self.indexer.submit(self.indexer.do_add_folder, os.path.abspath(path))
        if not demo.is_demo_folder(path):
            self._offer_demo_removal()

    def add_demo(self) -> None:
        self._adding = True
        self.stack.setCurrentWidget(self.library)
        self.indexer.submit(self.indexer.do_add_demo)

    def remove_folder(self, path: str) -> None:
        name = "the demo photos" if demo.is_demo_folder(path) else path
        ok = QMessageBox.question(
            self, "Remove folder", f"Remove {name} from the library?\n\nThe files on disk "
            "are not touched; the folder's photos just stop showing up here.")
        if ok == QMessageBox.StandardButton.Yes:
            self._remove(path)

    def _remove(self, path: str) -> None:
        if demo.is_demo_folder(path):
            self.settings.setValue("demo/dismissed", True)
            self.demo_allowed = False
        self._adding = False
        self.indexer.submit(self.indexer.do_remove_folder, path)

    def remove_demo(self) -> None:
        for f in self.folders or []:
            if demo.is_demo_folder(f.path):
                self._remove(f.path)

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Find photos similar to…",
                                              os.path.expanduser("~"), IMAGE_FILTER)
        if path:
            self.search(path)

    def show_shortcuts(self) -> None:
        if getattr(self, "shortcuts_sheet", None) is None:
            self.shortcuts_sheet = ShortcutsSheet(self)
        self.shortcuts_sheet.fit_to(self)
        self.shortcuts_sheet.show()
        self.shortcuts_sheet.raise_()

    def show_guide(self) -> None:
        if getattr(self, "guide", None) is None:
            self.guide = GuideDialog(self)
        self.guide.fit_to(self)
        self.guide.show()
        self.guide.raise_()

    def about(self) -> None:
        s = self.status
        QMessageBox.about(
            self, "About photofinder",
            "<h3>photofinder</h3><p>Find similar photos by example and clean out duplicates, "
            "on your own computer. No cloud, no network.</p>"
            f"<p><b>Model:</b> {s.model if s else 'loading…'}<br>"
            f"<b>Runs on:</b> {s.provider if s else 'loading…'}<br>"
            f"<b>Library:</b> {self.library_path}</p>")

    # -- indexing -------------------------------------------------------------------------
    def _on_phase(self, phase: str) -> None:
        self.index_status.set_phase(phase)
        if phase == "idle":
            self.ask_status_now()

    def _on_pause(self, paused: bool) -> None:
        (self.indexer.pause if paused else self.indexer.resume)()

    def _show_failure(self, message: str) -> None:
        if self.model_banner.building:  # the build failed: the banner says why, and Try again
            self.model_banner.set_failed(message)
        self.statusBar().showMessage(message, 20000)

    _tips: dict[str, str] = {}

    NEEDS_MODEL = "Build the model first (the banner at the top): it describes each photo"

    def _need_model(self, missing: bool) -> None:
        """Commands that cannot act without the model are disabled, the reason in their
        tooltip (never asked and then refused)."""
        for a in (self.act_similar, self.act_open, self.act_duplicates,
                  self.map.action):
            tip = self._tips.setdefault(a.text(), a.toolTip())
            a.setEnabled(not missing)
            a.setToolTip(self.NEEDS_MODEL if missing else tip)
        self.preview.find_button.setEnabled(not missing)
        self.preview.find_button.setToolTip(self.NEEDS_MODEL if missing else "")

    def _on_needs_model(self, why: str) -> None:
        """Photos wait to be indexed and there is no model: the banner says what to do."""
        self.model_banner.set_missing(why)
        self.ask_status_now()

    def _on_model_built(self, message: str) -> None:
        self.model_banner.set_built()
        self.statusBar().showMessage(message + "; indexing the photos.", 15000)
        self.ask_status_now()

    def _restart_watcher(self) -> None:
        if not self.watch_enabled:
            return
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        if not self._watched:
            return
        self._watcher = folder_watcher(self._watched,
                                       lambda: self.indexer.submit(self.indexer.do_update))
        self._watcher.start()

    # -- drag and drop --------------------------------------------------------------------
    def dragEnterEvent(self, e) -> None:
        if file_actions.local_image_paths(e.mimeData()):
            e.acceptProposedAction()

    def dragMoveEvent(self, e) -> None:
        self.dragEnterEvent(e)

    def dropEvent(self, e) -> None:
        paths = file_actions.local_image_paths(e.mimeData())
        if paths:
            e.acceptProposedAction()
            self.search(paths[0])

    # -- settings and shutdown ------------------------------------------------------------
    def _restore_settings(self) -> None:
        geo = self.settings.value("window/geometry")
        if isinstance(geo, QByteArray):
            self.restoreGeometry(geo)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        self.library.set_sort_key(str(self.settings.value("library/sort", "date")))

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("library/sort", self.library.model.sort_key)
        self.settings.setValue("window/view", "duplicates" if self.stack.currentWidget()
                               is self.duplicates else "library")
        self.settings.sync()

    def closeEvent(self, e) -> None:
        if getattr(self, "_closed", False):
            return super().closeEvent(e)
        self._closed = True
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.save_settings()
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        self.indexer.stop()
        self.query.stop()
        self.loader.shutdown()
        super().closeEvent(e)
