"""First launch: a welcome with one obvious button; and the banner over the demo photos."""

from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from photofinder.gui.icons import icon
from photofinder.gui.signals import emit


class EmptyState(QWidget):
    add_requested = Signal()
    open_requested = Signal()
    demo_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        logo = QLabel()
        logo.setPixmap(icon("photofinder").pixmap(QSize(96, 96), self.devicePixelRatioF()))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(logo)
        title = QLabel("Welcome to photofinder")
        f = title.font()
        f.setPointSizeF(f.pointSizeF() * 1.8)
        f.setBold(True)
        title.setFont(f)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(title)
        text = QLabel("Add a folder of photos. photofinder looks at every picture once, on this "
                      "computer, and then finds similar photos and duplicates in an instant.\n"
                      "Nothing leaves your machine.")
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setMaximumWidth(520)
        text.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(text)
        row.addStretch()
        outer.addSpacing(8)
        outer.addLayout(row)
        outer.addSpacing(16)
        self.add_button = QPushButton(icon("add-folder"), "  Add folder…")
        self.add_button.setIconSize(QSize(22, 22))
        self.add_button.setMinimumHeight(44)
        self.add_button.setMinimumWidth(200)
        self.add_button.setDefault(True)
        self.add_button.setStyleSheet(
            "QPushButton { background: #5e81ac; color: white; border: none; border-radius: 6px;"
            " font-weight: bold; padding: 0 18px; } QPushButton:hover { background: #4c6f99; }")
        self.add_button.clicked.connect(self.add_requested)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.add_button)
        buttons.addStretch()
        outer.addLayout(buttons)
        links = QLabel('or drop a photo here to search by it · <a href="open">open a photo…</a>'
                       ' · <a href="demo">try the demo photos</a>')
        links.setAlignment(Qt.AlignmentFlag.AlignCenter)
        links.linkActivated.connect(self._on_link)
        outer.addSpacing(10)
        outer.addWidget(links)
        outer.addStretch(3)

    def _on_link(self, link: str) -> None:
        emit(self.demo_requested if link == "demo" else self.open_requested)


class DemoBanner(QFrame):
    """Shown above the grid while the library holds only the demo photos."""

    add_requested = Signal()
    remove_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("demoBanner")
        self.setStyleSheet("#demoBanner { background: #fdf6e3; border: 1px solid #ebcb8b;"
                           " border-radius: 6px; } #demoBanner QLabel { color: #5c4813; }")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 6, 8, 6)
        label = QLabel("<b>These are demo photos</b> — Add folder to index your own. "
                       "Try right-clicking a photo and choosing <i>Find similar</i>.")
        label.setWordWrap(True)
        lay.addWidget(label, 1)
        add = QPushButton(icon("add-folder"), "Add folder…")
        add.clicked.connect(self.add_requested)
        remove = QPushButton("Remove demo")
        remove.setToolTip("Take the demo photos out of the library")
        remove.clicked.connect(self.remove_requested)
        lay.addWidget(add)
        lay.addWidget(remove)


class ModelBanner(QFrame):
    """Shown over every view while there is no model: what happened (photos are listed but
    cannot be indexed or searched) and what to do, with the button that does it."""

    build_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("modelBanner")
        self.setStyleSheet("#modelBanner { background: #fdecea; border: 1px solid #d08770;"
                           " border-radius: 6px; } #modelBanner QLabel { color: #5c1f13; }")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 6, 8, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lay.addWidget(self.label, 1)
        self.button = QPushButton("Build the model")
        self.button.setToolTip("Make photofinder's model on this computer, once (no network: "
                               "its weights come with the app's export extra)")
        self.button.clicked.connect(lambda _=False: self._build())
        lay.addWidget(self.button)
        self.building = False
        self.hide()

    def set_missing(self, why: str = "") -> None:
        """No model: say so (``why``: the library's reason when it is not simply unbuilt)."""
        if self.building:
            return
        text = ("<b>The model is not built yet</b>, so photos are listed but not indexed, "
                "and Find similar and Duplicates wait. It is built once, on this computer, "
                "in a minute or two.")
        if why and "not built" not in why:
            text = f"<b>The model cannot be used:</b> {html.escape(why)}"
        self.label.setText(text)
        self.button.setText("Build the model")
        self.button.setEnabled(True)
        self.show()

    def _build(self) -> None:
        self.building = True
        self.button.setEnabled(False)
        self.label.setText("<b>Building the model…</b> this takes a minute or two; the photos "
                           "are indexed as soon as it is ready.")
        emit(self.build_requested)

    def set_step(self, step: str) -> None:
        self.label.setText(f"<b>Building the model…</b> {html.escape(step)}")

    def set_failed(self, message: str) -> None:
        self.building = False
        self.label.setText(f"<b>The model could not be built:</b> {html.escape(message)}")
        self.button.setText("Try again")
        self.button.setEnabled(True)
        self.show()

    def set_built(self) -> None:
        self.building = False
        self.hide()
