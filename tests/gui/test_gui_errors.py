"""A background job that fails shows its error, never an empty result."""

from __future__ import annotations

import shutil

from photofinder.gui import workers


def test_a_failed_duplicates_check_is_shown_as_an_error(make_window, qtbot, tmp_path, monkeypatch,
                                                        photo_set):
    # no model in this data dir: the check cannot run (browsing still works)
    monkeypatch.setenv("PHOTOFINDER_DATA", str(tmp_path / "empty-data"))
    monkeypatch.setattr(workers, "_embedders", {})
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(photo_set / "originals" / "coffee.jpg", folder)
    w = make_window()
    w.show_duplicates()
    d = w.duplicates
    qtbot.waitUntil(lambda: "failed" in d.summary.text(), timeout=30_000)
    assert "model is not built" in d.empty.text()
    assert "No duplicates" not in d.empty.text() + d.summary.text()
    assert d.empty.isVisible()
