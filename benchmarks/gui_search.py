"""Right-click -> "Find similar" -> results on screen, at 10,000 and 100,000 photos; library
grid scrolling; memory (RSS) of the GUI process. Prints JSON.

The libraries are SYNTHETIC (benchmarks/gui_synthetic.py): real catalogue rows, real files
(hard links of one JPEG) and real HNSW indexes, but random unit vectors instead of embedded
photos. Each size runs in a fresh GUI process (offscreen Qt), driven like a user: the grid's
context menu is requested on a visible cell and its "Find similar" action triggered; the
time ends when the results grid has been painted.
Usage: python benchmarks/gui_search.py [N ...]   (default: 10000 100000)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def child(n: int, library: str) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    t0 = time.perf_counter()
    from PySide6.QtCore import QEventLoop

    from photofinder.gui.app import make_app, process_setup
    from photofinder.gui.main_window import MainWindow
    from photofinder.gui.models import PathRole, value

    app = make_app()
    out = {"photos": n}

    def pump(cond, timeout=600.0):
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            if cond():
                return True
        raise TimeoutError

    process_setup()  # as the app does before its window opens
    w = MainWindow(library, watch=False, demo_allowed=False)
    w.resize(1280, 860)
    w.show()
    app.processEvents()
    w.repaint()
    out["first_window_ms"] = round((time.perf_counter() - t0) * 1000)
    pump(lambda: w.library.model.rowCount() == n)
    out["grid_filled_ms"] = round((time.perf_counter() - t0) * 1000)
    w.results.slider.setValue(0)  # random vectors score low: show every match, paint them all
    grid = w.library.grid
    shown, last = [], [0.0]
    w.results_shown.connect(shown.append)
    orig = w.results.set_results

    def spy(query, matches, outside, seconds=0.0):
        last[0] = seconds
        orig(query, matches, outside, seconds)
    w.results.set_results = spy

    def right_click_find_similar(row: int) -> tuple[float, float]:
        w.show_library()
        app.processEvents()
        ix = grid.model().index(row)
        grid.scrollTo(ix)
        app.processEvents()
        start = time.perf_counter()
        grid.customContextMenuRequested.emit(grid.visualRect(ix).center())
        action = next(a for a in w.context_menu.actions() if a.text() == "Find similar")
        action.trigger()
        w.context_menu.close()
        before = len(shown)
        pump(lambda: len(shown) > before, 120)
        w.results.grid.viewport().repaint()
        elapsed = (time.perf_counter() - start) * 1000
        return elapsed, w.results.model.rowCount()

    import random

    rnd = random.Random(3)
    cold, rows = right_click_find_similar(rnd.randrange(n))
    out["right_click_to_results_first_ms"] = round(cold)  # loads the index if not yet loaded
    out["first_search_while"] = w.index_status.phase
    pump(lambda: w.index_status.phase == "idle" and w.loader.pending() == 0, 300)
    out["startup_scan_done_ms"] = round((time.perf_counter() - t0) * 1000)
    times, query = [], []
    for _ in range(15):
        times.append(right_click_find_similar(rnd.randrange(n))[0])
        query.append(last[0] * 1000)
    out["right_click_to_results_ms"] = {"median": round(statistics.median(times), 1),
                                        "max": round(max(times), 1), "runs": len(times)}
    out["of_which_query_thread_ms"] = {"median": round(statistics.median(query), 1),
                                       "max": round(max(query), 1)}
    out["results_shown"] = rows
    # scrolling the library grid: a jump to a random place, painted (thumbnails arrive later)
    w.show_library()
    app.processEvents()
    bar = grid.verticalScrollBar()
    paints = []
    for _ in range(60):
        start = time.perf_counter()
        bar.setValue(rnd.randrange(bar.maximum() + 1))
        grid.viewport().repaint()
        paints.append((time.perf_counter() - start) * 1000)
    out["grid_jump_and_paint_ms"] = {"median": round(statistics.median(paints), 2),
                                     "max": round(max(paints), 2)}
    steps = []
    for _ in range(120):  # a smooth scroll: one wheel step at a time
        start = time.perf_counter()
        bar.setValue(bar.value() + 40)
        grid.viewport().repaint()
        app.processEvents()
        steps.append((time.perf_counter() - start) * 1000)
    out["grid_wheel_step_ms"] = {"median": round(statistics.median(steps), 2),
                                 "max": round(max(steps), 2)}
    pump(lambda: w.loader.pending() == 0, 120)
    out["rss_mb"] = rss_mb()
    out["visible_path_sample"] = os.path.basename(value(grid.indexAt(grid.rect().center()),
                                                        PathRole) or "")
    w.close()
    return out


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    sys.path.insert(0, HERE)
    from gui_synthetic import build

    report = {"benchmark": "gui_search", "data": "synthetic: real catalogue rows, files (small "
              "JPEGs) and HNSW index; random unit vectors instead of embeddings (the slider is "
              "set to 0 so every match is shown)",
              "goal_ms": 300, "runs": []}
    for n in sizes:
        built = build(n, f"/tmp/pf-gui-bench-{n}")
        proc = subprocess.run([sys.executable, __file__, "--child", str(n), built["library"]],
                              capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            report["runs"].append({"photos": n, "error": proc.stderr[-2000:]})
            continue
        run = json.loads(proc.stdout.strip().splitlines()[-1])
        run["library_build_seconds"] = built["built_seconds"]
        report["runs"].append(run)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(int(sys.argv[2]), sys.argv[3])))
    else:
        main()
