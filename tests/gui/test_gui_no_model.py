"""First start with no model built: the window says what happened and offers "Build the
model"; the photos are listed meanwhile (never a silent "Looking for photos…")."""

from __future__ import annotations

import pytest

from photofinder import demo
from photofinder.gui import workers


@pytest.fixture
def bare_window(qtbot, tmp_path, monkeypatch):
    """A MainWindow with the demo allowed, in a data dir that has no model (and no embedder
    left over from another test in this process)."""
    from photofinder.gui.main_window import MainWindow

    monkeypatch.setenv("PHOTOFINDER_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(workers, "_embedders", {})
    made = []

    def make():
        w = MainWindow(str(tmp_path / "library"), demo_allowed=True, watch=False)
        qtbot.addWidget(w)
        w.show()
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


def _demo_count() -> int:
    return sum(1 for p in demo.demo_folder().rglob("*.jpg"))


def test_first_start_without_a_model_says_so_and_lists_the_demo(bare_window, qtbot):
    w = bare_window()
    banner = w.model_banner
    qtbot.waitUntil(lambda: banner.isVisible(), timeout=60_000)
    assert "not built" in banner.label.text()
    assert banner.button.text() == "Build the model" and banner.button.isEnabled()
    # the demo photos are unpacked, added and listed (not indexed: they wait for the model)
    qtbot.waitUntil(lambda: bool(w.folders) and w.library.model.total >= 8, timeout=60_000)
    assert w.library.model.total == _demo_count()
    assert w.stack.currentWidget() is w.library and w.library.grid.isVisible()
    assert w.folders_panel.isVisible() and len(w.folders) == 1
    qtbot.waitUntil(lambda: w.status.photos.pending == _demo_count(), timeout=30_000)
    assert w.index_status.phase == "idle"
    # what cannot act without the model is disabled, and says why (never asks, then refuses)
    for a in (w.act_similar, w.act_open, w.act_duplicates, w.map.action):
        assert not a.isEnabled() and "Build the model" in a.toolTip()
    assert not w.preview.find_button.isEnabled()
    # a photo dropped on the window all the same: the results say what to do in the app
    photo = next(demo.demo_folder().glob("*.jpg"))
    w.search(str(photo))
    qtbot.waitUntil(lambda: "Build the model" in w.results.subtitle.text(), timeout=30_000)
    assert "photofinder model build" not in w.results.subtitle.text()


@pytest.mark.slow
def test_build_the_model_button_builds_it_and_the_photos_get_indexed(bare_window, qtbot):
    pytest.importorskip("torch")
    w = bare_window()
    banner = w.model_banner
    qtbot.waitUntil(lambda: banner.isVisible() and bool(w.folders), timeout=60_000)
    banner.button.click()
    assert not banner.button.isEnabled() and "Building the model" in banner.label.text()
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=600_000)
    n = _demo_count()
    qtbot.waitUntil(lambda: w.status.photos.indexed == n and
                    w.index_status.phase == "idle", timeout=300_000)
    assert w.status.model != "not built"
    assert w.act_similar.isEnabled() and "Build the model" not in w.act_similar.toolTip()
