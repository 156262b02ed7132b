"""The search box: words typed in, photos that show them out (search by words, offline).

Suggestions follow the typing: the last word of the text is completed from the words
photofinder knows (``library.word_suggestions``: curated photo words first, then words that
name a class), in a popup driven by the keyboard (Down/Up to choose, Enter or Tab to take,
Esc to close). Enter with the popup closed asks for the search (``search_requested``); the
main window runs it on the query worker and shows the results.
"""

from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import QCompleter, QLineEdit

from photofinder.gui.signals import emit
from photofinder.library import word_suggestions

PLACEHOLDER = "Search by words: beach, dog, sunset…"


class WordSearchBox(QLineEdit):
    search_requested = Signal(str)  # the words, stripped

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setPlaceholderText(PLACEHOLDER)
        self.setClearButtonEnabled(True)
        self.setToolTip("Find photos by what they show, with no network: type words, pick a "
                        "suggestion, press Enter")
        self.setMinimumWidth(220)
        self.setMaximumWidth(360)
        self.suggestions = QStringListModel(self)
        self.completer = QCompleter(self.suggestions, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        # the model already holds the matches for the last word: show them all, in order
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setWidget(self)
        self.completer.activated.connect(self._take)
        self._timer = QTimer(self, singleShot=True, interval=60)
        self._timer.timeout.connect(self._suggest)
        self.textEdited.connect(lambda _t: self._timer.start())
        self.returnPressed.connect(self._submit)

    # -- suggestions ----------------------------------------------------------------------
    def _last_word(self) -> tuple[str, str]:
        text = self.text()
        head, _, last = text.rpartition(" ")
        return (head + " " if head else ""), last

    def _suggest(self) -> None:
        _, last = self._last_word()
        words = word_suggestions(last) if len(last) >= 2 else []
        self.suggestions.setStringList(words)
        popup = self.completer.popup()
        if words:
            self.completer.setCompletionPrefix("")
            self.completer.complete()
            popup.setCurrentIndex(self.completer.completionModel().index(0, 0))
        else:
            popup.hide()

    def _take(self, word: str) -> None:
        head, _ = self._last_word()
        self.setText(head + word)
        self.completer.popup().hide()

    def keyPressEvent(self, e) -> None:
        popup = self.completer.popup()
        if popup.isVisible() and e.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Return,
                                             Qt.Key.Key_Enter):
            index = popup.currentIndex()
            if index.isValid():
                self._take(index.data())
                e.accept()
                return
        super().keyPressEvent(e)

    def focusNextPrevChild(self, forward: bool) -> bool:
        if self.completer.popup().isVisible():
            return False  # Tab takes the suggestion (keyPressEvent)
        return super().focusNextPrevChild(forward)

    # -- the search -----------------------------------------------------------------------
    def _submit(self) -> None:
        if self.completer.popup().isVisible():
            return
        words = " ".join(self.text().split())
        if words:
            emit(self.search_requested, words)
