"""Screenshots of the app for the README and docs, as a person meets it: run under Xvfb (a real
X server), one process a step (the scale is fixed when Qt starts):

    xvfb-run -s "-screen 0 1400x1000x24" python docs/make_screenshots.py first
    xvfb-run -s "-screen 0 1920x1080x24" python docs/make_screenshots.py main [TESTDATA] [HOLIDAYS]
    QT_SCALE_FACTOR=2 xvfb-run -s "-screen 0 2048x1400x24" python docs/make_screenshots.py scaled

- first: the first start with no model built (an empty data folder): what happened, and
  "Build the model"; the demo photos listed meanwhile.
- main: a library holding holidays-dev, the testdata and the demo (the model must be built):
  the window at 1024x700, Find similar, a similar-shots card, the duplicates review with the
  shortcuts sheet open (the whole screen: the sheet is a window of its own), the map.
- scaled: the same library at 200 % scaling on a 2048x1400 screen.

Temporary libraries and data folders (the model copied in); writes docs/screenshot-*.png
(256-colour PNGs).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

DOCS = Path(__file__).resolve().parent
SHARED = DOCS.parents[1] / "shared"
WORK = Path(tempfile.gettempdir()) / "pf-shots"  # kept between steps: main indexes once


def save_image(img, name: str) -> Path:
    tmp = DOCS / f".{name}.tmp.png"
    img.save(str(tmp))
    with Image.open(tmp) as im:
        im = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                        dither=Image.Dither.NONE)
        out = DOCS / f"{name}.png"
        im.save(out, optimize=True)
    os.remove(tmp)
    print(out, im.size, out.stat().st_size // 1024, "KB")
    return out


def save(widget, name: str) -> Path:
    return save_image(widget.grab().toImage(), name)


def save_screen(app, name: str, rect=None) -> Path:
    """The whole screen (dialogs are windows of their own), or ``rect`` of it."""
    screen = app.primaryScreen()
    pm = screen.grabWindow(0)
    if rect is not None:
        dpr = pm.devicePixelRatio()
        pm = pm.copy(int(rect.x() * dpr), int(rect.y() * dpr), int(rect.width() * dpr),
                     int(rect.height() * dpr))
    return save_image(pm.toImage(), name)


def _data_dir(with_model: bool) -> Path:
    """A private data folder; with the model built copied in (from the user's data folder)."""
    from photofinder.paths import model_dir
    from photofinder.pixels.embedding.model import MODEL_NAME

    d = WORK / ("data-model" if with_model else "data-bare")
    if with_model and not (d / "models" / MODEL_NAME).exists():
        shutil.copytree(model_dir(MODEL_NAME), d / "models" / MODEL_NAME)
    d.mkdir(parents=True, exist_ok=True)
    return d


def main() -> None:
    step = sys.argv[1] if len(sys.argv) > 1 else "main"
    if step == "first":
        shutil.rmtree(WORK / "data-bare", ignore_errors=True)
        shutil.rmtree(WORK / "first-lib", ignore_errors=True)
    os.environ["PHOTOFINDER_DATA"] = str(_data_dir(step != "first"))
    from PySide6.QtCore import QEventLoop

    from photofinder.gui.app import make_app
    from photofinder.gui.main_window import MainWindow

    app = make_app()

    def pump(cond, timeout=900.0, settle=0.0):
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
        return bool(s and s.folders and s.photos.pending == 0
                    and w.index_status.phase == "idle" and w.library.model.rowCount())

    if step == "first":
        w = MainWindow(str(WORK / "first-lib"), watch=False, demo_allowed=True)
        w.resize(1024, 700)
        w.move(0, 0)
        w.show()
        pump(lambda: w.model_banner.isVisible() and w.library.model.rowCount() > 0, settle=3.0)
        save(w, "screenshot-first-start")
        w.close()
        return

    lib = str(WORK / "main-lib")
    if step == "scaled":
        w = MainWindow(lib, watch=False, demo_allowed=False)
        w.resize(1000, 680)  # logical pixels: 2000x1360 on the 2048x1400 screen
        w.move(0, 0)
        w.show()
        pump(lambda: indexed(w), settle=2.0)
        query = next(p for p in w.library.model.table.paths if p.endswith("/100000.jpg"))
        w.search(query)
        pump(lambda: w.results.model.rowCount() > 0, settle=3.0)
        print("window", w.width(), w.height(), "minimum", w.minimumSizeHint().width(),
              w.minimumSizeHint().height(), "screen", app.primaryScreen().size())
        save(w, "screenshot-200-percent")
        w.close()
        return

    testdata = Path(sys.argv[2]) if len(sys.argv) > 2 else SHARED / "testdata"
    holidays = Path(sys.argv[3]) if len(sys.argv) > 3 else SHARED / "evaldata" / "holidays-dev"
    w = MainWindow(lib, watch=False, demo_allowed=True)
    w.resize(1024, 700)
    w.move(0, 0)
    w.show()
    pump(lambda: indexed(w), settle=1.0)
    from PySide6.QtWidgets import QMessageBox

    keep_demo = staticmethod(lambda *a, **k: QMessageBox.StandardButton.No)
    QMessageBox.question = keep_demo  # "Remove the demo photos?": no, the map shows it too
    for folder in (holidays, testdata):
        if folder.is_dir() and not any(f["path"] == str(folder) for f in w.folders or []):
            w.add_folder(str(folder))
    pump(lambda: indexed(w) and len(w.folders) >= 3, settle=3.0)
    w.show_library()
    pump(lambda: True, settle=2.0)
    print("window", w.width(), w.height())
    save(w, "screenshot-1024x700")
    query = next(p for p in w.library.model.table.paths if p.endswith("/100000.jpg"))
    w.search(query)
    pump(lambda: w.results.model.rowCount() > 0, settle=3.0)
    save(w, "screenshot-results")
    print("window after results", w.width(), w.height())
    w.resize(1400, 900)
    w.show_duplicates()
    d = w.duplicates
    pump(lambda: bool(d.groups or d.similar) and not d.checking, settle=3.0)
    # a similar-shots card: the first set of similar shots
    if d.similar:
        d.list.setCurrentRow(len(d.groups) + 1)
        pump(lambda: True, settle=2.0)
        save(w, "screenshot-similar-shots")
    # the duplicates review with the shortcuts sheet open
    d.list.setCurrentRow(0)
    d.list.setFocus()
    pump(lambda: True, settle=2.0)
    w.show_shortcuts()
    sheet = w.shortcuts_sheet
    sheet.move(w.x() + w.width() - sheet.width() - 20, w.y() + 60)
    pump(lambda: sheet.isVisible(), settle=2.0)
    save_screen(app, "screenshot-duplicates-review", w.frameGeometry())
    sheet.close()
    from photofinder.gui import learning

    learning.show_map(w)
    pump(lambda: w.map_view.count > 0, timeout=900, settle=4.0)
    save(w, "screenshot-map")
    w.close()


if __name__ == "__main__":
    main()
