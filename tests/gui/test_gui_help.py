"""Help: the shortcuts sheet (?) lists the same keys the actions use; the guide (F1) is
shipped with the app and opens offline."""

from __future__ import annotations

from PySide6.QtCore import Qt

from photofinder.gui import shortcuts as K


def test_question_mark_opens_the_shortcuts_sheet_and_f1_the_guide(make_window, qtbot):
    w = make_window()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    qtbot.keyClick(w.library.grid, Qt.Key.Key_Question)
    sheet = w.shortcuts_sheet
    assert sheet.isVisible()
    text = sheet.text.toPlainText()
    for key in (K.FIND_SIMILAR, K.SEARCH, K.KEEP, K.MARK, K.NEXT_GROUP, K.UNDO, K.ZOOM_IN):
        assert key.what in text and key.shown() in text
    # the actions carry the keys the sheet shows
    assert [s.toString() for s in w.act_similar.shortcuts()] == ["Ctrl+Shift+F"]
    assert [s.toString() for s in w.act_search.shortcuts()] == ["Ctrl+F"]
    sheet.close()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    qtbot.keyClick(w.library.grid, Qt.Key.Key_F1)
    assert w.guide.isVisible()
    guide = w.guide.text.toPlainText()
    assert "What the % means" in guide and "Duplicates" in guide and "Undo" in guide
    help_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Help")
    assert [a.text() for a in help_menu.actions() if a.text()] == [
        "photofinder &guide", "&Keyboard shortcuts", "&About photofinder"]
