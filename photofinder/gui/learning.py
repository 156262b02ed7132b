"""Learning (issue 14): marks on search results ("Similar" / "Not similar": stored, then the
query runs again re-ranked), and "Learn from this library" / "Stop using what was learned"
(background jobs on the writer). ``LearningController`` holds its actions and the Tools
menu; the window owns it and calls ``add_result_marks`` from its context menu. The map is
gui/map_controller.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from photofinder.gui.signals import emit

if TYPE_CHECKING:
    from photofinder.gui.main_window import MainWindow

# -- jobs for the IndexWorker (the writer): callables of the worker ----------------------------
def mark_job(worker, query: str, result: str, mark: str | None) -> None:
    worker._library().mark_result(query, result, mark)
    emit(worker.cleaned, "mark", query)


def learn_job(worker) -> None:
    lib = worker._library()
    report = lib.train_projection(
        progress=lambda stage, done, total: emit(
            worker.busy, f"Learning from the library: {stage} {done} of {total}…"))
    emit(worker.cleaned, "learned", report)


def unlearn_job(worker) -> None:
    emit(worker.cleaned, "unlearned", worker._library().projection_off())


# -- the controller ----------------------------------------------------------------------------
class LearningController(QObject):
    """Marks on results, Learn and Unlearn; what the writer says about them, in the status
    bar."""

    def __init__(self, w: MainWindow):
        super().__init__(w)
        self.w = w
        self.act_learn = QAction("&Learn from this library", w)
        self.act_learn.setStatusTip("Tune Find similar to these photos and your marks "
                                    "(a few minutes)")
        self.act_learn.triggered.connect(lambda _=False: w.indexer.submit(learn_job, w.indexer))
        self.act_unlearn = QAction("Stop &using what was learned", w)
        self.act_unlearn.triggered.connect(
            lambda _=False: w.indexer.submit(unlearn_job, w.indexer))
        for a in (self.act_learn, self.act_unlearn):
            w.addAction(a)
        bar = w.menuBar()
        help_ = next((a for a in bar.actions() if a.text() == "&Help"), None)
        tools = QMenu("&Tools", w)
        bar.insertMenu(help_, tools) if help_ is not None else bar.addMenu(tools)
        tools.addAction(self.act_learn)
        tools.addAction(self.act_unlearn)
        w.indexer.cleaned.connect(self._on_cleaned)

    def _on_cleaned(self, kind: str, result) -> None:
        w = self.w
        if kind == "mark" and w.stack.currentWidget() is w.results and w.results.query == result:
            w.search(result)  # the query again, re-ranked by the marks
        elif kind == "learned":
            w.statusBar().showMessage(
                f"Learned from {result.get('photos_edited', 0)} photos and "
                f"{result.get('similar_marks', 0) + result.get('not_similar_marks', 0)} marks: "
                f"Find similar now uses {result['version']}", 20000)
            w.ask_status()
        elif kind == "unlearned":
            w.statusBar().showMessage("Find similar is back to the plain vectors", 15000)
            w.ask_status()

    def add_result_marks(self, menu: QMenu, path: str) -> None:
        """"Similar" / "Not similar" on a result of the query shown."""
        w = self.w
        if w.stack.currentWidget() is not w.results or not w.results.query:
            return
        query = w.results.query
        menu.addSeparator()
        menu.addAction("Similar: rank photos like this first",
                       lambda: w.indexer.submit(mark_job, w.indexer, query, path, "similar"))
        menu.addAction("Not similar: rank it last",
                       lambda: w.indexer.submit(mark_job, w.indexer, query, path, "not_similar"))
        menu.addAction("Forget my mark",
                       lambda: w.indexer.submit(mark_job, w.indexer, query, path, None))
