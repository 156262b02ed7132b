"""Help: the keyboard shortcuts sheet (``?``) and the guide (F1), both shipped with the app
(resources/guide; nothing is fetched: the app makes no network connection)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from photofinder.assets import guide_path
from photofinder.gui import shortcuts as K


def sheet_html() -> str:
    """The shortcuts table as HTML, section by section (from gui/shortcuts.py)."""
    parts = []
    for title, keys in K.SHEET:
        rows = "".join(
            f"<tr><td style='padding:2px 14px 2px 0; white-space:nowrap'><b>"
            f"{html.escape(k.shown())}</b></td><td style='padding:2px 0'>{html.escape(k.what)}"
            "</td></tr>" for k in keys)
        parts.append(f"<h3 style='margin:10px 0 4px 0'>{html.escape(title)}</h3>"
                     f"<table cellspacing='0'>{rows}</table>")
    return "".join(parts)


class _Page(QDialog):
    def __init__(self, parent, title: str, size: tuple[int, int]):
        super().__init__(parent)
        self.setWindowTitle(title)
        lay = QVBoxLayout(self)
        self.text = QTextBrowser()
        self.text.setOpenLinks(True)
        self.text.setOpenExternalLinks(False)  # no network: links stay inside the guide
        lay.addWidget(self.text, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)
        lay.addWidget(close)
        self.resize(*size)

    def fit_to(self, parent) -> None:
        """Never larger than the window it belongs to (a small screen, 200 % scaling)."""
        if parent is not None:
            w = min(self.width(), max(360, parent.width() - 40))
            h = min(self.height(), max(300, parent.height() - 40))
            self.resize(w, h)


class ShortcutsSheet(_Page):
    def __init__(self, parent=None):
        super().__init__(parent, "Keyboard shortcuts", (560, 640))
        self.text.setHtml(sheet_html())
        self.setWindowFlag(Qt.WindowType.Tool, False)


class GuideDialog(_Page):
    def __init__(self, parent=None):
        super().__init__(parent, "photofinder guide", (720, 680))
        self.text.setSearchPaths([str(guide_path().parent)])
        self.text.setSource(guide_path().as_uri())
