"""A search's results: the query photo, its matches best first with scores, and a
similarity slider that refilters the fetched matches instantly (no new search)."""

from __future__ import annotations

import os

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QSlider, QToolButton, QVBoxLayout, QWidget)

from photofinder.gui.grid import add_grid_with_placeholder
from photofinder.gui.icons import icon
from photofinder.gui.models import ResultsModel
from photofinder.gui.thumbnails import ThumbnailLoader
from photofinder.gui.widgets import ElidedLabel

DEFAULT_THRESHOLD = 10  # percent: hide only the photos very unlikely to show the same thing


class ResultsView(QWidget):
    back_requested = Signal()

    def __init__(self, loader: ThumbnailLoader, parent=None):
        super().__init__(parent)
        self.loader = loader
        self.query: str | None = None
        self.model = ResultsModel(loader, self)
        self.model.threshold = DEFAULT_THRESHOLD / 100.0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        head = QWidget()
        head.setObjectName("resultsHead")
        head.setStyleSheet("#resultsHead { border-bottom: 1px solid palette(mid); }")
        h = QHBoxLayout(head)
        h.setContentsMargins(8, 8, 12, 8)
        self.back = QToolButton()
        self.back.setIcon(icon("library"))
        self.back.setText("Library")
        self.back.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.back.setToolTip("Back to the library (Esc)")
        self.back.setAutoRaise(True)
        self.back.clicked.connect(self.back_requested)
        h.addWidget(self.back)
        self.query_thumb = QLabel()
        self.query_thumb.setFixedSize(QSize(72, 72))
        self.query_thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        h.addWidget(self.query_thumb)
        titles = QVBoxLayout()
        self.title = ElidedLabel("")
        f = self.title.font()
        f.setPointSizeF(f.pointSizeF() * 1.25)
        f.setBold(True)
        self.title.setFont(f)
        self.subtitle = ElidedLabel("", mode=Qt.TextElideMode.ElideRight)
        self.subtitle.setStyleSheet("color: palette(placeholder-text);")
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        h.addLayout(titles, 1)
        self.slider_caption = QLabel("At least")  # short: the title needs the room at 1024 px
        h.addWidget(self.slider_caption)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setValue(DEFAULT_THRESHOLD)
        self.slider.setFixedWidth(130)
        self.slider.setToolTip("Hide the photos less likely than this to show the same place "
                               "or object (90% = about 9 in 10 such photos do)")
        self.slider.valueChanged.connect(self._on_slider)
        h.addWidget(self.slider)
        self.slider_label = QLabel(f"{DEFAULT_THRESHOLD}%")
        self.slider_label.setFixedWidth(self.slider_label.fontMetrics().horizontalAdvance("100%") + 8)
        h.addWidget(self.slider_label)
        lay.addWidget(head)
        self.grid, self.placeholder = add_grid_with_placeholder(lay, self.model)
        loader.ready.connect(self._on_thumb)

    # -- state ----------------------------------------------------------------------------
    @staticmethod
    def _title(query: str, region) -> str:
        if region is None:
            return f"Photos similar to {os.path.basename(query)}"
        return f"Photos showing the part of {os.path.basename(query)} you chose"

    def set_searching(self, query: str, region=None) -> None:
        """A new search: its results start at the default threshold (a slider moved for the
        last search would hide this one's matches)."""
        self.query = query
        self.model.set_matches([])
        self.slider.setValue(DEFAULT_THRESHOLD)
        self.title.setText(self._title(query, region))
        self.title.setToolTip(query)
        self.subtitle.setText("Searching…")
        self._update_thumb()

    def set_results(self, query: str, matches, outside: bool, seconds: float = 0.0,
                    region=None, scored: bool = True, scale: str | None = None) -> None:
        """``scored`` False: photos shown together without a score (the map's choice): no
        percentages, no slider. ``scale`` "words": a word search's results, each with its
        own score (never a %), no slider."""
        scale = scale or ("similar" if scored else None)
        scored = scale == "similar"
        self.query = query
        self.title.setText(self._title(query, region))
        self.title.setToolTip(query)
        self.outside = outside
        for w in (self.slider_caption, self.slider, self.slider_label):
            w.setVisible(scored)
        self.model.set_matches(matches, scale)
        self._update_thumb()
        self._update_counts()
        if self.model.rowCount():
            self.grid.setCurrentIndex(self.model.index(0))

    def set_error(self, query: str, message: str) -> None:
        self.query = query
        self.model.set_matches([])
        self.subtitle.setText(message)
        self._update_counts(message)

    def threshold(self) -> float:
        return self.slider.value() / 100.0

    def _on_slider(self, value: int) -> None:
        self.slider_label.setText(f"{value}%")
        self.model.set_threshold(value / 100.0)
        self._update_counts()

    def _update_counts(self, message: str | None = None) -> None:
        shown, total = self.model.rowCount(), len(self.model.matches)
        where = " (a photo from outside the library)" if getattr(self, "outside", False) else ""
        if message:
            text = message
        elif total == 0:
            text = "No photos in the library to compare with yet."
        elif not self.model.scored:
            text = f"{total} photo{'s' if total != 1 else ''}"
        else:
            text = f"{shown} of the {total} closest photos at {self.slider.value()}% or more{where}"
        self.subtitle.setText(text)
        empty = shown == 0
        self.placeholder.setVisible(empty)
        self.grid.setVisible(not empty)
        if empty and total:
            self.placeholder.setText("No photo is this similar.\nMove the slider to the left "
                                     "to see less similar ones.")
        elif empty:
            self.placeholder.setText(message or "Nothing to show yet.")

    def _update_thumb(self) -> None:
        pm = self.loader.get(self.query) if self.query else None
        if pm is None:
            self.query_thumb.setPixmap(QPixmap())
            return
        self.query_thumb.setPixmap(pm.scaled(self.query_thumb.size() * self.devicePixelRatioF(),
                                             Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation))

    def _on_thumb(self, path: str) -> None:
        if path == self.query:
            self._update_thumb()
