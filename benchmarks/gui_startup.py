"""Time to first window: from launching `python -m photofinder gui` (a new process) until the
main window has been painted, and until the library grid is filled. Prints JSON.

Runs the real entry point (photofinder.gui.app) in a child process on the offscreen Qt
platform, on an empty library (the welcome screen) and, when built, on the synthetic
libraries of benchmarks/gui_synthetic.py. Median of RUNS launches each.
Usage: python benchmarks/gui_startup.py [LIBRARY ...]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 5

CHILD = r"""
import os, sys, time, json
t0 = float(sys.argv[2])
from PySide6.QtCore import QTimer
from photofinder.gui.app import make_app, process_setup
from photofinder.gui.main_window import MainWindow
app = make_app()
t_import = time.time()
process_setup()
w = MainWindow(sys.argv[1], watch=False, demo_allowed=False)
w.show()
marks = {}
def painted():
    marks.setdefault("window", time.time())
def check():
    if w.library.model.rowCount() or (w.status is not None and not w.folders):
        marks.setdefault("filled", time.time())
        app.quit()
QTimer.singleShot(0, painted)  # runs after the first show/paint pass
t = QTimer(); t.timeout.connect(check); t.start(5)
QTimer.singleShot(60000, app.quit)
app.exec()
w.close()
print(json.dumps({"imports_ms": (t_import - t0) * 1000, "window_ms": (marks["window"] - t0) * 1000,
                  "filled_ms": (marks.get("filled", time.time()) - t0) * 1000,
                  "rows": w.library.model.rowCount()}))
"""


def launch(library: str) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-c", CHILD, library, repr(t0)], capture_output=True,
                          text=True, env=env, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-1500:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(library: str, label: str) -> dict:
    runs = [launch(library) for _ in range(RUNS)]
    med = lambda k: round(statistics.median(r[k] for r in runs))  # noqa: E731
    return {"library": label, "rows": runs[0]["rows"], "runs": RUNS,
            "process_start_to_imports_done_ms": med("imports_ms"),
            "process_start_to_first_window_ms": med("window_ms"),
            "process_start_to_grid_filled_ms": med("filled_ms")}


def main() -> None:
    out = {"benchmark": "gui_startup", "platform": "Qt offscreen (no compositor)", "results": []}
    with tempfile.TemporaryDirectory() as empty:
        out["results"].append(measure(os.path.join(empty, "lib"), "empty (welcome screen)"))
    libs = sys.argv[1:] or [f"/tmp/pf-gui-bench-{n}/library" for n in (10_000, 100_000)
                            if os.path.exists(f"/tmp/pf-gui-bench-{n}/built-{n}")]
    for lib in libs:
        out["results"].append(measure(lib, f"synthetic, {lib}"))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
