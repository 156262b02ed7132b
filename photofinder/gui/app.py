"""Entry point of the desktop app: ``photofinder gui [IMAGE]``."""

from __future__ import annotations

import os
import signal
import sys


def make_app():
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(sys.argv[:1])
    app.setApplicationName("photofinder")
    app.setOrganizationName("photofinder")
    app.setApplicationDisplayName("photofinder")
    app.setDesktopFileName("photofinder")
    return app


def run(library_path: str, image: str | None = None, provider: str | None = None) -> int:
    """Open the main window on ``library_path`` (straight into ``image``'s results if given)."""
    if image is not None and not os.path.isfile(image):
        from photofinder.library import LibraryError

        raise LibraryError(f"no such file: {image}")
    app = make_app()
    from PySide6.QtCore import QTimer

    from photofinder.gui.icons import icon
    from photofinder.gui.main_window import MainWindow

    app.setWindowIcon(icon("photofinder"))
    window = MainWindow(library_path, provider=provider, image=image)
    window.show()
    # Ctrl+C in the terminal closes the window properly (workers stopped, settings saved);
    # the timer lets Python run its signal handler while Qt's loop is in C++.
    previous = signal.signal(signal.SIGINT, lambda *_: window.close())
    tick = QTimer()
    tick.timeout.connect(lambda: None)
    tick.start(250)
    try:
        return app.exec()
    finally:
        window.close()  # a no-op when the window closed itself
        signal.signal(signal.SIGINT, previous)
