"""One similarity scale (issue 23): the grid's % is the calibrated chance that a result shows
the same place or object (resources/calibration/similarity.json, fitted on held-out
holidays-dev scenes), the same number in the badge, the tooltip and the slider; a grid of photos
chosen on the map shows no score and no slider."""

from __future__ import annotations

import json
import os

from photofinder.assets import calibration_path
from photofinder.gui.models import BadgeRole, ScoreRole, value
from photofinder.library import Match, similarity_percent


def test_the_shipped_calibration_was_checked_on_held_out_scenes():
    d = json.loads(calibration_path("similarity.json").read_text())
    assert d["a"] > 0 and d["pairs_held_out"] > 1000
    top = [b for b in d["held_out"]["bands"] if b["shown"] in ("80-90%", "90-100%")]
    assert top and all(b["same_scene"] >= 0.8 for b in top)  # "90%" keeps its promise
    low = next(b for b in d["held_out"]["bands"] if b["shown"] == "0-10%")
    assert low["same_scene"] < 0.1
    assert similarity_percent(0.5) < similarity_percent(0.85) < similarity_percent(0.95)


def test_results_show_the_calibrated_scale_and_a_map_grid_none(
        make_window, wait_indexed, wait_results, photo_set, qtbot):
    w = make_window()
    w.add_folder(str(photo_set))
    wait_indexed(w, 40)
    w.search(str(photo_set / "originals" / "coffee.jpg"))
    wait_results(w)
    w.results.slider.setValue(0)
    m = w.results.model
    by_name = {os.path.basename(x.path): x for x in m.matches}
    shown = {os.path.basename(m.path_at(r)): value(m.index(r), ScoreRole)
             for r in range(m.rowCount())}
    badges = {os.path.basename(m.path_at(r)): value(m.index(r), BadgeRole)
              for r in range(m.rowCount())}
    for name, match in by_name.items():  # the badge's number is the calibrated one
        assert shown[name] == similarity_percent(match.score)
        assert badges[name] == f"{shown[name]}%"
    assert shown["coffee-resized.jpg"] >= 90
    # unrelated photos: a raw cosine read as a % promised more than it meant
    unrelated = [shown[n] for n in shown if not n.startswith("coffee")]
    raw = [by_name[n].score for n in shown if not n.startswith("coffee")]
    assert max(raw) > 0.5 and max(unrelated) < 10  # were "55%", now under 10%
    row = next(r for r in range(m.rowCount()) if m.path_at(r).endswith("coffee-resized.jpg"))
    tip = m.data(m.index(row), 3)  # ToolTipRole
    assert f"{shown['coffee-resized.jpg']}% likely the same place or object" in tip
    w.results.slider.setValue(50)  # the slider filters on the same number
    assert all(value(m.index(r), ScoreRole) >= 50 for r in range(m.rowCount()))
    assert m.rowCount() == sum(1 for v in shown.values() if v >= 50)
    # Map › Open as grid: photos chosen, not found: no 100%, no slider
    paths = [str(photo_set / "originals" / n) for n in ("coffee.jpg", "rocket.jpg")]
    w.map.open_grid(paths)
    assert w.stack.currentWidget() is w.results
    assert [value(m.index(r), ScoreRole) for r in range(m.rowCount())] == [None, None]
    assert not w.results.slider.isVisible() and not w.results.slider_label.isVisible()
    assert "%" not in w.results.subtitle.text()


def test_word_search_scores_are_their_own_scale(make_window, photo_set):
    """A word search's results carry its own score: shown as such, never as a %, and no
    similarity slider hides any of them."""
    w = make_window()
    paths = [str(photo_set / "originals" / n) for n in ("coffee.jpg", "rocket.jpg")]
    w.results.set_results("coffee cup", [Match(paths[0], 0.42, -1), Match(paths[1], 0.05, -1)],
                          outside=False, scale="words")
    m = w.results.model
    assert m.rowCount() == 2  # nothing hidden
    assert [value(m.index(r), BadgeRole) for r in range(2)] == ["0.42", "0.05"]
    assert "%" not in m.data(m.index(0), 3) and not w.results.slider.isVisibleTo(w.results)
