"""PySide6 6.12.0 loses references to True (every Signal.emit) and to None (an empty QVariant
returned to Python); enough of them and Python aborts. Our code goes around both
(gui/signals.emit, gui/models.value); these checks keep it that way."""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QObject, Signal

from photofinder.gui.grid import PhotoGrid
from photofinder.gui.models import ResultsModel, ScoreRole, StateRole, value
from photofinder.gui.signals import emit
from photofinder.gui.thumbnails import ThumbnailLoader
from photofinder.library import Match

N = 2000


class _Emitter(QObject):
    fired = Signal(str)


def _settled(obj) -> int:
    gc.collect()
    return sys.getrefcount(obj)


def test_emit_keeps_true_alive(qtbot):
    e = _Emitter()
    got = []
    e.fired.connect(got.append)
    before = _settled(True)
    for _ in range(N):
        emit(e.fired, "x")
    assert len(got) == N
    assert _settled(True) > before - N // 4


def test_model_values_keep_none_alive(qtbot, tmp_path):
    loader = ThumbnailLoader(str(tmp_path / "thumbs"))
    model = ResultsModel(loader)
    model.set_matches([Match(str(tmp_path / f"missing-{i}.jpg"), 0.9, i) for i in range(10)])
    grid = PhotoGrid()
    qtbot.addWidget(grid)
    grid.setModel(model)
    grid.show()
    before = _settled(None)
    for i in range(N):
        ix = model.index(i % 10)
        value(ix, ScoreRole)
        value(ix, 1)  # no thumbnail yet: None
        value(ix, 12345)  # a role nobody answers: None
        value(ix, StateRole)
    grid.viewport().repaint()
    qtbot.waitUntil(lambda: len(loader.failed) == 10, timeout=10_000)
    assert _settled(None) > before - N // 4
    loader.shutdown()


def test_the_qt_binding_keeps_none_and_true_alive(qtbot):
    """PySide6 6.12.0 on Python 3.11 loses a reference to None on every call that returns
    nothing (setText, processEvents...): no workaround is possible, the app aborts after a
    few thousand calls; pyproject.toml keeps that version out. This fails if it comes back."""
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    qtbot.addWidget(label)
    before = _settled(None)
    for _ in range(N):
        label.setText("x")
    assert _settled(None) > before - N // 4
