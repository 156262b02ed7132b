"""Search by words in the window, driven by the keyboard: Ctrl+K into the box, suggestions as
the user types (Down and Enter take one), Enter searches; an unknown word says so and names
near words; a photo's tags in its preview; words narrowing a Find similar. Real window, real
library, real model, real key events."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt

from photofinder.gui.models import PathRole, value


def _first(w) -> str:
    return os.path.basename(value(w.results.model.index(0), PathRole))


def test_the_word_box_by_the_keyboard(make_window, wait_indexed, wait_results, photo_set,
                                      qtbot):
    w = make_window()
    w.add_folder(str(photo_set / "originals"))
    wait_indexed(w, len(list((photo_set / "originals").glob("*.jpg"))))
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    box = w.words.box
    qtbot.keyClick(w.library.grid, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert box.hasFocus()
    # suggestions as the user types (once the table is loaded, off the UI thread)
    qtbot.keyClicks(box, "pussyc")
    popup = box.word_completer.popup()
    qtbot.waitUntil(popup.isVisible, timeout=30_000)
    shown = [box.suggestions.index(i).data() for i in range(box.suggestions.rowCount())]
    assert shown and all(s.lower().startswith("pussyc") for s in shown), shown
    assert "pussycat" in shown
    while popup.currentIndex().data() != "pussycat":
        qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)  # takes the suggestion, does not search yet
    assert box.text() == "pussycat" and not popup.isVisible()
    assert w.stack.currentWidget() is not w.results
    qtbot.keyClick(box, Qt.Key.Key_Return)  # now it searches
    wait_results(w)
    assert _first(w) == "chelsea.jpg"  # pussycat: a synonym of cat
    assert "pussycat" in w.results.title.text()
    # the keyboard goes on into the photos (the window's focus widget: the popup that just
    # closed may hand the window's activation back a moment later)
    qtbot.waitUntil(lambda: w.focusWidget() is w.results.grid, timeout=5_000)
    assert w.results.model.rowCount() == len(w.results.model.matches)  # none hidden
    assert not w.results.slider.isVisible()  # word scores are no similarity: no % slider
    # a word it does not know: said, with near words, never an empty grid without a reason
    # (a shortcut fires only in the active window: the closed popup may have taken the
    # activation a moment, as above)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    qtbot.keyClick(w.results.grid, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.focusWidget() is box, timeout=5_000)
    box.clear()
    qtbot.keyClicks(box, "catt")
    qtbot.keyClick(box, Qt.Key.Key_Escape)  # any popup closes first
    if box.word_completer.popup().isVisible():
        box.word_completer.popup().hide()
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "not a word photofinder knows" in w.results.subtitle.text(),
                    timeout=30_000)
    assert "cat" in w.results.subtitle.text().split("near words:")[1]
    assert w.results.model.rowCount() == 0 and w.results.placeholder.isVisible()


def test_a_photos_tags_in_its_preview_and_words_narrow_find_similar(
        make_window, wait_indexed, wait_results, photo_set, qtbot):
    w = make_window()
    w.add_folder(str(photo_set))
    n = len(list(photo_set.glob("*/*.jpg")))
    wait_indexed(w, n)
    w.preview.show_path(str(photo_set / "originals" / "chelsea.jpg"))
    qtbot.waitUntil(w.preview.tags.isVisible, timeout=30_000)
    assert "Egyptian cat" in w.preview.tags.text()
    w.preview.close()
    query = str(photo_set / "edited" / "chelsea-cropped.jpg")
    w.search(query)
    wait_results(w)
    assert _first(w).startswith("chelsea")
    assert w.words.narrow_box.isVisible()
    qtbot.keyClicks(w.words.narrow_box, "coffee")
    qtbot.keyClick(w.words.narrow_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "that show “coffee”" in w.results.title.text() and
                    bool(w.results.model.matches), timeout=30_000)
    assert _first(w).startswith("coffee")  # like the cat photo, and showing coffee
    assert "chelsea-cropped.jpg" in w.results.title.text()
