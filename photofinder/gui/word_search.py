"""The search box: words typed in, photos that show them out (search by words, offline).

Suggestions follow the typing: the last word of the text is completed from the words
photofinder knows (``library.word_suggestions``: curated photo words first, then words that
name a class), in a popup driven by the keyboard (Down/Up to choose, Enter or Tab to take,
Esc to close). Enter with the popup closed asks for the search (``search_requested``); the
main window runs it on the query worker and shows the results.

``WordSearchController`` puts it in the main window (which owns it): the box in the toolbar
(Ctrl+K), the results in the results view (an unknown word's message, with near words, in
place of the results), a photo's tags in its preview, and "Narrow by words" over the results
of a Find similar ("similar to this photo" and words together).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QObject, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QAbstractItemView, QBoxLayout, QCompleter, QLineEdit, QMenu,
                               QSizePolicy, QWidget)

from photofinder.gui import queries
from photofinder.gui import shortcuts as K
from photofinder.gui.queries import Failure
from photofinder.gui.signals import emit
from photofinder.library import (Library, LibraryError, Match, ModelError, warm_words,
                                 word_suggestions)

if TYPE_CHECKING:
    from photofinder.gui.main_window import MainWindow

PLACEHOLDER = "Search by words: beach, dog, sunset…"
NARROW_PLACEHOLDER = "Narrow by words…"


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
        self.word_completer = QCompleter(self.suggestions, self)
        self.word_completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        # the model already holds the matches for the last word: show them all, in order
        self.word_completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.word_completer.setWidget(self)
        self.word_completer.activated.connect(self._take)
        self._timer = QTimer(self, singleShot=True, interval=60)
        self._timer.timeout.connect(self._suggest)
        self.textEdited.connect(lambda _t: self._timer.start())
        self.returnPressed.connect(self._submit)

    # -- suggestions ----------------------------------------------------------------------
    def _popup(self) -> QAbstractItemView:
        """The completer's list (a QCompleter always has one; the stubs say Optional)."""
        return cast(QAbstractItemView, self.word_completer.popup())

    def _last_word(self) -> tuple[str, str]:
        text = self.text()
        head, _, last = text.rpartition(" ")
        return (head + " " if head else ""), last

    def _suggest(self) -> None:
        _, last = self._last_word()
        words = word_suggestions(last) if len(last) >= 2 else []
        self.suggestions.setStringList(words)
        popup = self._popup()
        if words:
            self.word_completer.setCompletionPrefix("")
            self.word_completer.complete()
            popup.setCurrentIndex(self.word_completer.completionModel().index(0, 0))
        else:
            popup.hide()

    def _take(self, word: str) -> None:
        head, _ = self._last_word()
        self.setText(head + word)
        self._popup().hide()

    def keyPressEvent(self, e) -> None:
        popup = self._popup()
        if popup.isVisible() and e.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Return,
                                             Qt.Key.Key_Enter):
            index = popup.currentIndex()
            if index.isValid():
                self._take(index.data())
                e.accept()
                return
        super().keyPressEvent(e)

    def focusNextPrevChild(self, forward: bool) -> bool:
        if self._popup().isVisible():
            return False  # Tab takes the suggestion (keyPressEvent)
        return super().focusNextPrevChild(forward)

    # -- the search -----------------------------------------------------------------------
    def _submit(self) -> None:
        if self._popup().isVisible():
            return
        words = " ".join(self.text().split())
        if words:
            emit(self.search_requested, words)


# -- what the query worker runs (plain functions of a reader Library, as gui/queries.py) ------
@dataclass
class WordsResult:
    words: str
    matches: list[Match]
    seconds: float = 0.0
    photo: str | None = None  # "similar to this photo" narrowed by the words


def words_job(lib: Library, words: str, top: int = queries.TOP) -> WordsResult:
    """The photos that show ``words``, best first; a word photofinder does not know is a
    WordError naming near words (the worker answers it as a Failure, shown as is)."""
    start = time.perf_counter()
    lib.catch_up()
    return WordsResult(words, lib.search_words(words, top), time.perf_counter() - start)


def narrowed_job(lib: Library, path: str, words: str, top: int = queries.TOP) -> WordsResult:
    """The photos most like ``path`` that also show ``words``."""
    start = time.perf_counter()
    lib.catch_up()
    return WordsResult(words, lib.similar_with_words(path, words, top),
                       time.perf_counter() - start, path)


def tags_job(lib: Library, path: str) -> tuple[str, list[tuple[str, float]]]:
    """What a catalogued photo looks like to the model (its preview shows it)."""
    try:
        return path, lib.photo_tags(path, 5)
    except (LibraryError, ModelError):  # no model, or one without the class output: no tags
        return path, []


def warm_job(lib: Library) -> None:
    """Load the words table off the UI thread, so suggestions never make typing wait."""
    warm_words()


# -- the controller ----------------------------------------------------------------------------
class WordSearchController(QObject):
    """The word box and its action, the narrow box over a Find similar's results, a photo's
    tags in the preview. Each search is asked through the window's ``ask_search`` (a newer
    search, of any kind, makes it stale), with its own reply."""

    def __init__(self, w: MainWindow):
        super().__init__(w)
        self.w = w
        self.box = WordSearchBox(w)
        self.box.search_requested.connect(self.search)
        self.action = QAction("Search by &words", w)
        self.action.setShortcuts(K.WORDS.sequences())
        self.action.setStatusTip(K.WORDS.what)
        self.action.triggered.connect(lambda _=False: (self.box.setFocus(),
                                                       self.box.selectAll()))
        w.addAction(self.action)
        edit = next((a.menu() for a in w.menuBar().actions() if a.text() == "&Edit"), None)
        if isinstance(edit, QMenu):
            edit.insertAction(w.act_search, self.action)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        w.toolbar.addWidget(spacer)
        w.toolbar.addWidget(self.box)
        self.narrow_box = QLineEdit()
        self.narrow_box.setPlaceholderText(NARROW_PLACEHOLDER)
        self.narrow_box.setClearButtonEnabled(True)
        self.narrow_box.setToolTip("Keep the photos like this one that also show these words "
                                   "(Enter)")
        self.narrow_box.setMaximumWidth(200)
        self.narrow_box.returnPressed.connect(lambda: self.narrow(self.narrow_box.text()))
        head = w.results.findChild(QWidget, "resultsHead")
        lay = head.layout() if head is not None else None
        if isinstance(lay, QBoxLayout):  # beside the title, before the similarity slider
            lay.insertWidget(max(lay.count() - 3, 0), self.narrow_box)
        w.preview.shown.connect(lambda path: w.ask(tags_job, path, reply=self._on_tags))
        w.similar_answered.connect(self._on_similar_answered)
        w.ask(warm_job, reply=lambda _result: None)

    def search(self, words: str) -> None:
        w = self.w
        w.results.set_searching(words)
        w.results.title.setText(f"Photos that show “{words}”")
        self.narrow_box.hide()
        w.show_view(w.results)
        w.ask_search(words_job, words, query=words, reply=self._on_words)

    def narrow(self, words: str) -> None:
        """"Similar to this photo" and words: the results' query photo, narrowed."""
        w = self.w
        words = " ".join(words.split())
        path = w.results.query
        if not words or not path or not os.path.isfile(path):
            return
        w.results.set_searching(path)
        w.results.title.setText(f"Photos like {os.path.basename(path)} that show “{words}”")
        w.ask_search(narrowed_job, path, words, query=path, reply=self._on_words)

    def _on_tags(self, result) -> None:
        if not isinstance(result, Failure):
            self.w.preview.set_tags(*result)

    def _on_similar_answered(self) -> None:
        self.narrow_box.show()  # a photo's results can be narrowed by words
        self.narrow_box.clear()

    def _on_words(self, result: WordsResult | Failure) -> None:
        w = self.w
        if isinstance(result, Failure):  # an unknown word: its message names near words
            w.results.set_error(w.search_query, result.message)
            return
        photo = result.photo
        # word scores are their own scale: shown as they are, no % and no similarity slider
        w.results.set_results(photo or result.words, result.matches, False, result.seconds,
                              scale="words")
        if photo:
            w.results.title.setText(f"Photos like {os.path.basename(photo)} that show "
                                    f"“{result.words}”")
        else:
            w.results.title.setText(f"Photos that show “{result.words}”")
        n = len(result.matches)
        w.results.subtitle.setText(
            f"{n} photo{'s' if n != 1 else ''}, best first, found by what they show" if n else
            "No photo in the library shows this.")
        w.results.grid.setFocus()
        emit(w.results_shown, result.words)
