"""Screenshots of the app for the README and docs: run under Xvfb (a real X server).

    xvfb-run -s "-screen 0 1400x900x24" python docs/make_screenshots.py [TESTDATA]

Uses temporary libraries: the demo photos, and TESTDATA (default ../shared/testdata) when
present. Writes docs/screenshot-*.png (256-colour PNGs, each well under 400 KB).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

DOCS = Path(__file__).resolve().parent


def save(widget, name: str) -> Path:
    img = widget.grab().toImage()
    img.save(str(DOCS / f".{name}.tmp.png"))
    with Image.open(DOCS / f".{name}.tmp.png") as im:
        im = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                        dither=Image.Dither.NONE)
        out = DOCS / f"{name}.png"
        im.save(out, optimize=True)
    os.remove(DOCS / f".{name}.tmp.png")
    print(out, out.stat().st_size // 1024, "KB")
    return out


def main() -> None:
    from PySide6.QtCore import QEventLoop

    from photofinder.gui.app import make_app
    from photofinder.gui.main_window import MainWindow

    app = make_app()

    def pump(cond, timeout=600.0, settle=0.0):
        end = time.time() + timeout
        while time.time() < end:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            if cond():
                break
        else:
            raise TimeoutError
        end = time.time() + settle
        while time.time() < end:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)

    def indexed(w):
        s = w.status
        return bool(s and s["folders"] and s["photos"]["pending"] == 0
                    and w.index_status.phase == "idle" and w.library.model.rowCount())

    tmp = tempfile.mkdtemp(prefix="pf-shots-")
    w = MainWindow(os.path.join(tmp, "demo-lib"), watch=False, demo_allowed=True)
    w.resize(1280, 800)
    w.show()
    pump(lambda: indexed(w), settle=2.0)
    save(w, "screenshot-library")
    astronaut = next(p for p in w.library.model.table.paths if p.endswith("/astronaut.jpg"))
    w.search(astronaut)
    pump(lambda: w.results.model.rowCount() > 0, settle=2.0)
    save(w, "screenshot-results")
    w.show_duplicates()
    pump(lambda: len(w.duplicates.groups) > 0, settle=3.0)
    save(w, "screenshot-duplicates")
    w.close()

    testdata = Path(sys.argv[1] if len(sys.argv) > 1 else DOCS.parents[1] / "shared" / "testdata")
    if testdata.is_dir():
        t = MainWindow(os.path.join(tmp, "testdata-lib"), watch=False, demo_allowed=False)
        t.resize(1280, 800)
        t.show()
        t.add_folder(str(testdata))
        pump(lambda: indexed(t), settle=3.0)
        t.errors_dock.show()
        pump(lambda: True, settle=1.0)
        save(t, "screenshot-testdata")
        bridge = next(p for p in t.library.model.table.paths if p.endswith("aaa-orig.jpg"))
        t.search(bridge)
        pump(lambda: t.results.model.rowCount() > 0, settle=3.0)
        save(t, "screenshot-testdata-results")
        t.errors_dock.hide()
        t.show_duplicates()
        pump(lambda: len(t.duplicates.groups) > 0, timeout=300, settle=3.0)
        save(t, "screenshot-testdata-duplicates")
        t.close()


if __name__ == "__main__":
    main()
