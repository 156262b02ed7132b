"""GUI fixtures: a real MainWindow on a real library in tmp, closed (threads joined) after."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")


@pytest.fixture(scope="session", autouse=True)
def gui_process():
    """The process set up as the app sets it up (gui/app.py) before its window opens."""
    from photofinder.gui.app import process_setup

    process_setup()


@pytest.fixture
def make_window(qtbot, tmp_path, model):
    """make_window(**kwargs) -> a shown MainWindow on tmp_path/'library' (demo off by default)."""
    from photofinder.gui.main_window import MainWindow

    made = []

    def make(library=None, demo_allowed=False, watch=False, **kw):
        w = MainWindow(str(library or tmp_path / "library"), demo_allowed=demo_allowed,
                       watch=watch, **kw)
        qtbot.addWidget(w)
        w.show()
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


@pytest.fixture
def wait_indexed(qtbot):
    """wait_indexed(w, n): until the window says ``n`` photos are done (indexed or failed)."""
    return lambda w, n, timeout=120_000: _wait_indexed(qtbot, w, n, timeout)


@pytest.fixture
def wait_results(qtbot):
    """wait_results(w): until the results view shows a search's answer."""
    return lambda w, timeout=60_000: _wait_results(qtbot, w, timeout)


def _wait_indexed(qtbot, w, n, timeout):
    def done():
        s = w.status
        assert s is not None
        c = s.photos
        assert c.indexed + c.failed >= n and c.pending == 0
        assert w.index_status.phase == "idle"
    qtbot.waitUntil(done, timeout=timeout)


def _wait_results(qtbot, w, timeout):
    def shown():
        assert w.stack.currentWidget() is w.results
        assert w.results.model.matches
    qtbot.waitUntil(shown, timeout=timeout)
