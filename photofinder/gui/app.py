"""Entry point of the desktop app: ``photofinder gui [IMAGE]``."""

from __future__ import annotations

import logging
import os
import signal
import sys
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # Qt is loaded when the window opens, not for `photofinder --help`
    from PySide6.QtWidgets import QApplication

log = logging.getLogger("photofinder.gui")


def process_setup() -> None:
    """What the whole process needs for a responsive window, set once before it opens.
    Worker threads (decode, embed, thumbnails, queries) share the GIL with the UI thread; a
    shorter switch interval hands it back to the UI sooner (the event loop itself runs
    without the GIL), so input and painting never queue behind a worker's Python code."""
    sys.setswitchinterval(0.001)


def make_app() -> QApplication:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    app = cast("QApplication | None", QApplication.instance())  # (typed QCoreApplication)
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(sys.argv[:1])
    app.setApplicationName("photofinder")
    app.setOrganizationName("photofinder")
    app.setApplicationDisplayName("photofinder")
    app.setDesktopFileName("photofinder")
    return app


def run(library_path: str, images: list[str] | None = None, provider: str | None = None,
        choose: bool = False, image: str | None = None) -> int:
    """Open the main window on ``library_path`` (straight into the results for ``images``),
    or hand the request to the window already open on that library and return at once."""
    images = [os.path.abspath(p) for p in (images or ([image] if image else []))]
    missing = [p for p in images if not os.path.isfile(p)]
    if missing:
        from photofinder.library import LibraryError

        raise LibraryError(f"no such file: {missing[0]}" + (f" (and {len(missing) - 1} more)"
                                                            if len(missing) > 1 else ""))
    from photofinder.gui import single_instance

    starter = single_instance.Starter(library_path)
    try:
        if starter.forward(single_instance.Request(images, choose)):
            return 0  # the running window has it
        app = make_app()
        server = starter.listen()
    finally:
        starter.release()
    from PySide6.QtCore import QTimer

    from photofinder.gui.icons import icon
    from photofinder.gui.main_window import MainWindow

    app.setWindowIcon(icon("photofinder"))
    process_setup()
    window = MainWindow(library_path, provider=provider, image=images[0] if images else None)
    deliver = single_instance.Deliverer(window)
    deliver.started_with(images)
    server.setParent(window)
    server.requested.connect(lambda r: log.info("request from another start: %d photo(s)%s",
                                                len(r.images), ", choose" if r.choose else ""))
    server.requested.connect(deliver)
    window.results_shown.connect(lambda q: log.info("results on screen for %s", q))
    window.show()
    if len(images) > 1:
        window.search_many(images)
    if choose:
        QTimer.singleShot(0, window.open_dialog)
    # Ctrl+C in the terminal closes the window properly (workers stopped, settings saved);
    # the timer lets Python run its signal handler while Qt's loop is in C++.
    previous = signal.signal(signal.SIGINT, lambda *_: window.close())
    tick = QTimer()
    tick.timeout.connect(lambda: None)
    tick.start(250)
    try:
        return app.exec()
    finally:
        server.close()
        window.close()  # a no-op when the window closed itself
        signal.signal(signal.SIGINT, previous)
