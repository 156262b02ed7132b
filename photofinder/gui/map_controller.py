"""The map in the main window (issue 14): the map view (a view in the stack, Ctrl+3), its
action, the worker that computes it (off the UI thread, with progress), and what a selection
on it leads to (a grid, Find similar by several photos, the duplicates among them).
``MapController`` holds all of it; the window owns it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from photofinder.gui import shortcuts as K
from photofinder.gui.icons import icon
from photofinder.gui.map_view import MapView, MapWorker, duplicates_among
from photofinder.gui.queries import Failure
from photofinder.gui.workers import shared_embedder
from photofinder.library import Match, ModelError

if TYPE_CHECKING:
    from photofinder.gui.main_window import MainWindow


class MapController(QObject):
    def __init__(self, w: MainWindow):
        super().__init__(w)
        self.w = w
        self.view = MapView(w.loader)
        w.stack.addWidget(self.view)
        self._worker: MapWorker | None = None
        self._again = False
        self._seen: dict[str, tuple[int, int]] = {}  # stage: (base, last done), see _progress
        self._timer = QTimer(self, singleShot=True, interval=1500)
        self._timer.timeout.connect(self.compute)
        self.view.open_grid.connect(self.open_grid)
        self.view.search_many.connect(w.search_many)
        self.view.check_duplicates.connect(self.duplicates_among)
        self.view.canvas.activated.connect(w.preview.show_path)
        w.results_shown.connect(lambda q: self.view.highlight(self._shown_results(), q))
        # new photos appear on the map as they are indexed (placed, not recomputed)
        w.indexer.indexed.connect(lambda: w.stack.currentWidget() is self.view
                                  and self._timer.start())
        self.action = QAction(icon("map"), "&Map", w)
        self.action.setShortcuts(K.MAP.sequences())
        self.action.setStatusTip("All photos on a map, similar ones close together")
        self.action.triggered.connect(lambda _=False: self.show())
        w.addAction(self.action)
        bar = w.menuBar()
        view = next((a.menu() for a in bar.actions() if a.text() == "&View"), None)
        if isinstance(view, QMenu):  # after Library and Duplicates
            if len(view.actions()) > 2:
                view.insertAction(view.actions()[2], self.action)
            else:
                view.addAction(self.action)
        w.toolbar.insertAction(w.act_similar, self.action)

    def show(self) -> None:
        self.w.show_view(self.view)
        self.view.canvas.setFocus()
        self.compute()

    def compute(self) -> None:
        if self._worker is not None:
            self._again = True
            return
        if not self.view.count:
            self.view.set_message("Making the map of the library…")
        try:
            emb = shared_embedder(self.w.indexer.provider)
        except ModelError:
            emb = None
        worker = MapWorker(self.w.library_path, emb, self)
        worker.progress.connect(self._progress)
        self._seen = {}
        worker.done.connect(self._on_map)
        worker.failed.connect(lambda msg: (self.view.set_message(msg), self._finished()))
        self._worker = worker
        worker.start()

    def _shown_results(self) -> list[str]:
        """The results on screen (those the slider lets through): the ones ringed on the
        map."""
        m = self.w.results.model
        return [m.path_at(r) for r in range(m.rowCount())] if m.scored else []

    def _progress(self, stage: str, done: int, total: int) -> None:
        """The map's progress, only forward: t-SNE counts its iterations again from 0 in its
        second phase ("175 of 750" then "25 of 750"); a count that drops goes on from where
        it was."""
        if self.view.count:
            return  # a map is on screen: it is being extended quietly
        base, last = self._seen.get(stage, (0, 0))
        if done < last:
            base += last
        self._seen[stage] = (base, done)
        shown = min(total, base + done) if total else done
        self.view.set_message(f"Making the map of the library: {stage} {shown} of {total}…")

    def _on_map(self, m) -> None:
        if len(m.paths) != self.view.count or not self.view.count:
            self.view.set_map(m)
            self.view.highlight(self._shown_results(), self.w.results.query or "")
        self._finished()

    def _finished(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.wait(1000)
            worker.deleteLater()
        if self._again:
            self._again = False
            self.compute()

    def open_grid(self, paths: list[str]) -> None:
        w = self.w
        w.results.set_results(paths[0], [Match(p, 1.0, -1) for p in paths], outside=False,
                              scored=False)  # chosen, not found: no score, no slider
        w.results.title.setText(f"{len(paths)} photos chosen on the map")
        w.results.query = None  # not a search: no marks to give
        w.show_view(w.results)

    def duplicates_among(self, paths: list[str]) -> None:
        w = self.w
        w.duplicates.set_groups([], searching=True)
        w.show_view(w.duplicates)
        w.ask(duplicates_among, paths, reply=self._on_duplicates)

    def _on_duplicates(self, result) -> None:
        if isinstance(result, Failure):
            self.w.duplicates.set_error(result.message)
        else:
            self.w.duplicates.set_findings(result)
