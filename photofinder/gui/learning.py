"""The main window's part for issue 14: the map view (a view in the stack, Ctrl+3), marks on
search results ("Similar" / "Not similar": stored, then the query runs again re-ranked), and
"Learn from this library" / "Stop using what was learned" (background jobs on the writer).

``install(window)`` adds all of it; the window keeps three small hooks (its answer, cleaned
and context-menu handlers call ``on_answer``, ``on_cleaned`` and ``add_result_marks``).
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from photofinder.gui import shortcuts as K
from photofinder.gui.icons import icon
from photofinder.gui.map_view import MapView, MapWorker, duplicates_among
from photofinder.gui.signals import emit
from photofinder.library import Match


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


# -- wiring ------------------------------------------------------------------------------------
def install(w) -> None:
    w.map_view = MapView(w.loader)
    w.stack.addWidget(w.map_view)
    w._map_worker = None
    w._map_again = False
    w._map_timer = QTimer(w, singleShot=True, interval=1500)
    w._map_timer.timeout.connect(lambda: _compute_map(w))
    w.map_view.open_grid.connect(lambda paths: _open_grid(w, paths))
    w.map_view.search_many.connect(w.search_many)
    w.map_view.check_duplicates.connect(lambda paths: _duplicates_among(w, paths))
    w.map_view.canvas.activated.connect(w.preview.show_path)
    w.results_shown.connect(lambda q: w.map_view.highlight(_shown_results(w), q))
    # new photos appear on the map as they are indexed (placed, not recomputed)
    w.indexer.indexed.connect(lambda: w.stack.currentWidget() is w.map_view
                              and w._map_timer.start())
    w.act_map = QAction(icon("map"), "&Map", w)
    w.act_map.setShortcuts(K.MAP.sequences())
    w.act_map.setStatusTip("All photos on a map, similar ones close together")
    w.act_map.triggered.connect(lambda _=False: show_map(w))
    w.act_learn = QAction("&Learn from this library", w)
    w.act_learn.setStatusTip("Tune Find similar to these photos and your marks (a few minutes)")
    w.act_learn.triggered.connect(lambda _=False: w.indexer.submit(learn_job, w.indexer))
    w.act_unlearn = QAction("Stop &using what was learned", w)
    w.act_unlearn.triggered.connect(lambda _=False: w.indexer.submit(unlearn_job, w.indexer))
    for a in (w.act_map, w.act_learn, w.act_unlearn):
        w.addAction(a)
    bar = w.menuBar()
    view = next((a.menu() for a in bar.actions() if a.text() == "&View"), None)
    if view is not None:
        view.insertAction(view.actions()[2] if len(view.actions()) > 2 else None, w.act_map)
    help_ = next((a for a in bar.actions() if a.text() == "&Help"), None)
    tools = QMenu("&Tools", w)
    bar.insertMenu(help_, tools) if help_ is not None else bar.addMenu(tools)
    tools.addAction(w.act_learn)
    tools.addAction(w.act_unlearn)
    if getattr(w, "toolbar", None) is not None:
        w.toolbar.insertAction(w.act_similar, w.act_map)


def show_map(w) -> None:
    w.show_view(w.map_view)
    w.map_view.canvas.setFocus()
    _compute_map(w)


def _compute_map(w) -> None:
    if w._map_worker is not None:
        w._map_again = True
        return
    if not w.map_view.count:
        w.map_view.set_message("Making the map of the library…")
    from photofinder.gui.workers import shared_embedder

    try:
        emb = shared_embedder(w.indexer.provider)
    except Exception:
        emb = None
    worker = MapWorker(w.library_path, emb, w)
    worker.progress.connect(lambda s, d, t: _map_progress(w, s, d, t))
    w._map_seen = {}
    worker.done.connect(lambda m: _on_map(w, m))
    worker.failed.connect(lambda msg: (w.map_view.set_message(msg), _finished(w)))
    w._map_worker = worker
    worker.start()


def _shown_results(w) -> list[str]:
    """The results on screen (those the slider lets through): the ones ringed on the map."""
    m = w.results.model
    return [m.path_at(r) for r in range(m.rowCount())] if m.scored else []


def _map_progress(w, stage: str, done: int, total: int) -> None:
    """The map's progress, only forward: t-SNE counts its iterations again from 0 in its
    second phase ("175 of 750" then "25 of 750"); a count that drops goes on from where it
    was."""
    if w.map_view.count:
        return  # a map is on screen: it is being extended quietly
    base, last = w._map_seen.get(stage, (0, 0))
    if done < last:
        base += last
    w._map_seen[stage] = (base, done)
    shown = min(total, base + done) if total else done
    w.map_view.set_message(f"Making the map of the library: {stage} {shown} of {total}…")


def _on_map(w, m) -> None:
    if len(m.paths) != w.map_view.count or not w.map_view.count:
        w.map_view.set_map(m)
        w.map_view.highlight(_shown_results(w), w.results.query or "")
    _finished(w)


def _finished(w) -> None:
    worker, w._map_worker = w._map_worker, None
    if worker is not None:
        worker.wait(1000)
        worker.deleteLater()
    if w._map_again:
        w._map_again = False
        _compute_map(w)


def _open_grid(w, paths: list[str]) -> None:
    w.results.set_results(paths[0], [Match(p, 1.0, -1) for p in paths], outside=False,
                          scored=False)  # chosen, not found: no score, no slider
    w.results.title.setText(f"{len(paths)} photos chosen on the map")
    w.results.query = None  # not a search: no marks to give
    w.show_view(w.results)


def _duplicates_among(w, paths: list[str]) -> None:
    w.duplicates.set_groups([], searching=True)
    w.show_view(w.duplicates)
    w._ask(duplicates_among, paths)


# -- the window's hooks --------------------------------------------------------------------
def on_answer(w, job, result) -> bool:
    """Answers of this part's query jobs; True when handled."""
    if job is duplicates_among:
        from photofinder.gui.queries import Failure

        if isinstance(result, Failure):
            w.duplicates.set_error(result.message)
        else:
            w.duplicates.set_findings(result)
        return True
    return False


def on_cleaned(w, kind: str, result) -> None:
    if kind == "mark" and w.stack.currentWidget() is w.results and w.results.query == result:
        w.search(result)  # the query again, re-ranked by the marks
    elif kind == "learned":
        w.statusBar().showMessage(
            f"Learned from {result.get('photos_edited', 0)} photos and "
            f"{result.get('similar_marks', 0) + result.get('not_similar_marks', 0)} marks: "
            f"Find similar now uses {result['version']}", 20000)
        w._ask_status()
    elif kind == "unlearned":
        w.statusBar().showMessage("Find similar is back to the plain vectors", 15000)
        w._ask_status()


def add_result_marks(w, menu, path: str) -> None:
    """"Similar" / "Not similar" on a result of the query shown."""
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
