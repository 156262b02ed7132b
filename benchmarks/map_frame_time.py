"""Frame time of the library map (gui/map_view.py) at 10,000 photos while panning and zooming.

10,000 points in clustered 2-D positions (as t-SNE gives), each a real photo (the photos of a
folder, cycled; their thumbnails are loaded first, as after a first look). The view is
panned in steps at three zoom levels (whole map: points; a tenth of it: points, too many to
show; close in: thumbnails), then zoomed in and out; each frame is a synchronous repaint of
the viewport (offscreen, raster), timed.

    QT_QPA_PLATFORM=offscreen python benchmarks/map_frame_time.py [PHOTO_DIR] [--n 10000]

Prints JSON: per phase, frames, median / p95 / max milliseconds, thumbnails drawn.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from photofinder.gui.map_view import MapView  # noqa: E402
from photofinder.gui.thumbnails import ThumbnailLoader  # noqa: E402
from photofinder.library import LibraryMap, is_photo_name  # noqa: E402

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "evaldata" / "holidays-dev"


def clustered(n: int, rng) -> np.ndarray:
    centres = rng.uniform(50, 950, (max(1, n // 40), 2))
    which = rng.integers(0, len(centres), n)
    return (centres[which] + rng.normal(0, 12, (n, 2))).clip(0, 1000).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("photos", nargs="?", default=str(DEFAULT_DIR))
    ap.add_argument("--n", type=int, default=10_000)
    a = ap.parse_args()
    files = sorted(str(p) for p in Path(a.photos).rglob("*") if p.is_file() and is_photo_name(p))
    if not files:
        raise SystemExit(f"no photos in {a.photos}")
    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(0)
    paths = [files[i % len(files)] for i in range(a.n)]
    xy = clustered(a.n, rng)
    loader = ThumbnailLoader(tempfile.mkdtemp(prefix="mapbench-thumbs-"))
    view = MapView(loader)
    view.resize(1280, 800)
    view.show()
    view.set_map(LibraryMap(paths, xy, "bench"))
    for f in files:  # thumbnails in memory first (as after the user has looked around)
        loader.get(f)
    deadline = time.monotonic() + 120
    while loader.pending() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    app.processEvents()
    c = view.canvas
    vp = c.viewport()

    def frame() -> float:
        t = time.perf_counter()
        vp.repaint()
        return (time.perf_counter() - t) * 1000.0

    def stats(times, thumbs) -> dict:
        times = sorted(times)
        return {"frames": len(times), "median_ms": round(statistics.median(times), 2),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
                "max_ms": round(times[-1], 2), "thumbnails_drawn_max": max(thumbs)}

    out = {"photos": a.n, "distinct_files": len(files), "viewport": [vp.width(), vp.height()],
           "platform": app.platformName(), "phases": {}}
    for name, zoom in (("pan_whole_map", 1.0), ("pan_tenth", np.sqrt(10)),
                       ("pan_close_thumbnails", 14.0)):
        c.fit()
        c.zoom(float(zoom))
        frame()  # warm
        times, thumbs = [], []
        centre = xy[rng.integers(0, a.n)]
        for step in range(60):
            p = centre + 40.0 / zoom * np.array([np.cos(step / 9), np.sin(step / 7)]) * step / 6
            c.centerOn(QPointF(float(p[0]), float(p[1])))
            times.append(frame())
            thumbs.append(c.layer.drawn_thumbs)
        out["phases"][name] = stats(times, thumbs)
    c.fit()
    times, thumbs = [], []
    c.centerOn(QPointF(*map(float, xy[0])))
    for step in range(80):  # zoom in 40 wheel steps, then out again
        c.zoom(1.12 if step < 40 else 1 / 1.12)
        times.append(frame())
        thumbs.append(c.layer.drawn_thumbs)
    out["phases"]["zoom_in_out"] = stats(times, thumbs)
    out["worst_median_ms"] = max(p["median_ms"] for p in out["phases"].values())
    out["goal_ms"] = 33
    print(json.dumps(out, indent=1))
    loader.shutdown()


if __name__ == "__main__":
    main()
