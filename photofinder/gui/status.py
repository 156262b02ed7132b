"""The status bar's indexing widget: progress bar, N of M, rate, ETA, pause/resume, errors."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QToolButton, QWidget

from photofinder.gui.icons import icon
from photofinder.gui.signals import emit
from photofinder.gui.widgets import ElidedLabel


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds + 0.5)
    if s < 60:
        return f"about {max(s, 1)} s left"
    if s < 3600:
        return f"about {round(s / 60)} min left"
    return f"about {s // 3600} h {round((s % 3600) / 60)} min left"


class IndexStatus(QWidget):
    pause_toggled = Signal(bool)  # True: pause
    errors_clicked = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 4, 0)
        self.label = ElidedLabel("", mode=Qt.TextElideMode.ElideRight)
        self.bar = QProgressBar()
        self.bar.setFixedWidth(180)
        self.bar.setTextVisible(False)
        self.bar.hide()
        self.pause = QToolButton()
        self.pause.setIcon(icon("pause"))
        self.pause.setToolTip("Pause indexing")
        self.pause.setCheckable(True)
        self.pause.toggled.connect(self._on_pause)
        self.pause.hide()
        self.errors = QToolButton()
        self.errors.setIcon(icon("errors"))
        self.errors.setAutoRaise(True)
        self.errors.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.errors.clicked.connect(self.errors_clicked)
        self.errors.hide()
        for w in (self.label, self.bar, self.pause, self.errors):
            lay.addWidget(w)
        self.phase = "idle"

    def _on_pause(self, paused: bool) -> None:
        self.pause.setIcon(icon("resume" if paused else "pause"))
        self.pause.setToolTip("Resume indexing" if paused else "Pause indexing")
        emit(self.pause_toggled, paused)

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        busy = phase in ("scanning", "indexing", "paused", "duplicates", "building")
        self.bar.setVisible(busy)
        self.pause.setVisible(phase in ("indexing", "paused"))
        if phase == "scanning":
            self.bar.setRange(0, 0)
            self.label.setText("Looking for new and changed photos…")
        elif phase == "building":
            self.bar.setRange(0, 0)
            self.label.setText("Building the model…")
        elif phase == "duplicates":
            self.bar.setRange(0, 0)
            self.label.setText("Checking the new photos for duplicates…")
        elif phase == "paused":  # before the first progress event too
            text = self.label.text()
            self.label.setText(text.replace("Indexing", "Paused:") if "Indexing" in text
                               else "Paused")

    def set_progress(self, p) -> None:
        if p.total <= 0:
            return
        self.bar.setRange(0, p.total)
        self.bar.setValue(p.done)
        if p.done >= p.total:
            self.label.setText(f"Indexed {p.total - p.failed:,} photo"
                               f"{'s' if p.total - p.failed != 1 else ''}")
            return
        word = "Paused:" if self.pause.isChecked() else "Indexing"
        parts = [f"{word} {p.done:,} of {p.total:,}"]
        if p.rate > 0:
            parts.append(f"{p.rate:.1f} photos/s")
        if p.eta is not None and not self.pause.isChecked():
            parts.append(eta_text(p.eta))
        self.label.setText(" · ".join(parts))

    def set_check_progress(self, stage: str, done: int, total: int) -> None:
        """The duplicates check after indexing: its pair checks counted, the rest a busy bar."""
        if self.phase != "duplicates":
            return
        if stage == "checking" and total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(done)
            self.label.setText(f"Checking the new photos for duplicates: {done:,} of "
                               f"{total:,} pairs")
        else:
            self.bar.setRange(0, 0)

    def set_summary(self, indexed: int, pending: int, failed: int) -> None:
        if self.phase == "idle":
            self.label.setText(f"{indexed:,} photos indexed" +
                               (f" · {pending:,} waiting" if pending else ""))
        self.errors.setVisible(failed > 0)
        self.errors.setText(f"{failed} problem{'s' if failed != 1 else ''}")
        self.errors.setToolTip("Show the files that could not be indexed")
