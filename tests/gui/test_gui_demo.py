"""The demo photos beside the user's own: offered for removal when the user adds a folder,
and never part of the user's duplicates or Find similar meanwhile."""

from __future__ import annotations

import os
import shutil

import pytest
from PySide6.QtWidgets import QMessageBox

from photofinder import demo
from photofinder.library import Library


@pytest.fixture
def replies(monkeypatch):
    """Questions are answered from a list (first in, first out); what they asked is kept."""
    said, answers = [], []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *a, **k: said.append(a[1]) or answers.pop(0)))
    return said, answers


def test_demo_is_offered_for_removal_and_stays_out_of_the_users_results(
        make_window, wait_indexed, wait_results, qtbot, photo_set, tmp_path, replies):
    said, answers = replies
    w = make_window(demo_allowed=True)
    qtbot.waitUntil(lambda: bool(w.folders), timeout=60_000)
    n_demo = sum(1 for _ in demo.demo_folder().rglob("*.jpg"))
    wait_indexed(w, n_demo)
    mine = tmp_path / "mine"
    mine.mkdir()
    for name in ("originals/coffee.jpg", "edited/coffee-resized.jpg",  # the demo's too
                 "originals/coins.jpg", "edited/coins-resized.jpg"):     # the user's alone
        shutil.copy(photo_set / name, mine)
    answers.append(QMessageBox.StandardButton.No)  # keep the demo for now
    w.add_folder(str(mine))
    assert said == ["Remove the demo photos?"]
    wait_indexed(w, n_demo + 4)
    qtbot.waitUntil(lambda: len(w.folders) == 2, timeout=30_000)
    demo_root = str(demo.demo_folder())
    # duplicates: the user's own group only (the demo's copies are not theirs to clean)
    w.show_duplicates()
    d = w.duplicates
    qtbot.waitUntil(lambda: not d.checking and bool(d.groups), timeout=60_000)
    everyone = [m.path for g in d.groups + d.similar for m in g.members]
    assert not any(p.startswith(demo_root) for p in everyone)
    assert {"coins.jpg", "coins-resized.jpg"} in [
        {os.path.basename(m.path) for m in g.members} for g in d.groups]
    with Library(w.library_path) as lib:  # the library itself does group them
        assert any(m.path.startswith(demo_root) for g in lib.find_duplicates().groups
                   for m in g.members)
    # Find similar from the user's photo: none of the demo's coffee photos
    w.search(str(mine / "coffee.jpg"))
    wait_results(w)
    found = [m.path for m in w.results.model.matches]
    assert str(mine / "coffee-resized.jpg") in found
    assert not any(p.startswith(demo_root) for p in found)
    # another folder: asked again; yes takes the demo out of the library
    more = tmp_path / "more"
    more.mkdir()
    shutil.copy(photo_set / "originals" / "camera.jpg", more)
    answers.append(QMessageBox.StandardButton.Yes)
    w.add_folder(str(more))
    assert said == ["Remove the demo photos?"] * 2
    qtbot.waitUntil(lambda: sorted(f.path for f in w.folders) == sorted(
        [str(mine), str(more)]), timeout=60_000)
