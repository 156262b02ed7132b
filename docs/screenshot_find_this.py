""""Find this" in the preview and its results, for the README: run under Xvfb.

    xvfb-run -s "-screen 0 1400x900x24" python docs/screenshot_find_this.py LIBRARY PHOTO X,Y,W,H

LIBRARY: a library that holds PHOTO's folder (e.g. holidays-dev indexed with `photofinder
add`). Drags the rectangle X,Y,W,H (the photo's pixels) over the preview with the mouse, as a
user does, then presses Find this; writes docs/screenshot-find-this.png: the preview with
its rectangle beside the results.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_screenshots import DOCS, save  # noqa: E402


def main() -> None:
    from PySide6.QtCore import QEvent, QEventLoop, QPoint, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from photofinder.gui.app import make_app
    from photofinder.gui.main_window import MainWindow

    library, photo, region = sys.argv[1], sys.argv[2], [int(v) for v in sys.argv[3].split(",")]
    app = make_app()

    def pump(seconds: float, until=lambda: False) -> None:
        end = time.time() + seconds
        while time.time() < end and not until():
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.02)

    w = MainWindow(library, demo_allowed=False, watch=False)
    w.resize(1180, 760)
    w.show()
    pump(20, lambda: w.status is not None and w.status.photos.indexed > 0)
    w.preview.resize(760, 620)
    w.preview.show_path(photo)
    label = w.preview.image
    pump(20, lambda: label.picture_size is not None)
    pump(0.5)
    r, (fw, fh) = label.picture_rect(), label.picture_size
    x, y, rw, rh = region

    def at(px, py):
        return QPoint(round(r.x() + px * r.width() / fw), round(r.y() + py * r.height() / fh))

    def send(kind, p, button, buttons):
        QApplication.sendEvent(label, QMouseEvent(kind, QPointF(p), QPointF(label.mapToGlobal(p)),
                                                  button, buttons, Qt.KeyboardModifier.NoModifier))
    a, b = at(x, y), at(x + rw, y + rh)
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    send(QEvent.Type.MouseButtonPress, a, left, left)
    send(QEvent.Type.MouseMove, b, none, left)
    send(QEvent.Type.MouseButtonRelease, b, left, none)
    pump(0.5)
    print("region chosen:", label.region)
    preview = save(w.preview, ".find-this-preview")
    w.preview.find_this.click()
    pump(30, lambda: w.results.model.matches)
    pump(3)  # thumbnails
    results = save(w, ".find-this-results")
    a_img, b_img = Image.open(preview).convert("RGB"), Image.open(results).convert("RGB")
    out = Image.new("RGB", (a_img.width + b_img.width + 16, max(a_img.height, b_img.height)),
                    (40, 44, 52))
    out.paste(a_img, (0, 0))
    out.paste(b_img, (a_img.width + 16, 0))
    out.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        DOCS / "screenshot-find-this.png", optimize=True)
    preview.unlink()
    results.unlink()
    print(DOCS / "screenshot-find-this.png")
    for m in w.results.model.matches[:8]:
        print(round(m.score, 3), m.path)
    w.close()


if __name__ == "__main__":
    main()
