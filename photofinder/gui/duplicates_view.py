"""Duplicates review: groups on the left; on the right the chosen group's copies as cards
(the suggested keeper marked, with the reasons), a side-by-side compare of the keeper and a
copy, and the clean-up buttons: "Move others to trash" (one group or all), "Keep this one
instead", "Not duplicates". Undo is Edit › Undo (Ctrl+Z). Below the copy groups, apart,
"Similar shots" (bursts, other views): compared, never offered for the trash. The view
opens at once on the stored results and shows the check's progress while it runs."""

from __future__ import annotations

import os

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QScrollArea, QSplitter, QVBoxLayout, QWidget)

from photofinder.gui.compare import CompareView
from photofinder.gui.icons import icon
from photofinder.gui.signals import emit
from photofinder.gui.thumbnails import ThumbnailLoader

CARD_THUMB = 112


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _folder(path: str) -> str:
    return os.path.basename(os.path.dirname(path)) or os.path.dirname(path)


class _Card(QFrame):
    def __init__(self, view: "DuplicatesView", group, member):
        super().__init__()
        self.path = member.path
        keeper = member.path == group.keep
        self.setObjectName("keeper" if keeper else "copy")
        self.setStyleSheet("#keeper { border: 2px solid #2f855a; border-radius: 8px;"
                           " background: #f0fff4; } #copy { border: 1px solid palette(mid);"
                           " border-radius: 8px; } #copy[comparing=\"true\"] {"
                           " border: 2px solid #5e81ac; background: #eef3fa; }")
        self.setFixedWidth(CARD_THUMB + 72)
        lay = QVBoxLayout(self)
        similar = member.kind == "similar"
        if similar:
            text = "BEST SHOT" if keeper else f"similar shot · {member.score * 100:.0f}%"
        else:
            text = "KEEP" if keeper else ("exact copy" if member.kind == "exact"
                                          else f"{member.edit} edit" if member.edit
                                          else f"copy · {member.score * 100:.0f}% alike")
        badge = QLabel(text)
        badge.setStyleSheet("font-weight: bold; color: %s;" % ("#2f855a" if keeper else "#555"))
        lay.addWidget(badge)
        self.thumb = QLabel()
        self.thumb.setFixedSize(CARD_THUMB, CARD_THUMB)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.thumb, 0, Qt.AlignmentFlag.AlignHCenter)
        name = QLabel(os.path.basename(member.path))
        name.setToolTip(member.path)
        name.setWordWrap(True)
        lay.addWidget(name)
        where = QLabel(_folder(member.path))
        where.setStyleSheet("color: palette(placeholder-text);")
        where.setToolTip(os.path.dirname(member.path))
        lay.addWidget(where)
        text = [r.removeprefix("keep: ").removeprefix("edited copy: ")
                .removeprefix("another shot of the same scene: ") for r in member.reasons]
        reasons = QLabel("\n".join(text[:2]))
        reasons.setWordWrap(True)
        reasons.setToolTip("\n".join(member.reasons))
        small = reasons.font()
        small.setPixelSize(11)
        reasons.setFont(small)  # (a style sheet's size would not be in fontMetrics() yet)
        reasons.setMaximumHeight(reasons.fontMetrics().lineSpacing() * 3)  # whole lines only
        reasons.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(reasons)
        lay.addStretch()
        if not keeper:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
            self.setToolTip("Click to compare with the copy to keep")
            self._compare = lambda: view.compare(group, member.path)
        if not keeper and not similar:
            row = QHBoxLayout()
            keep = QPushButton("Keep this")
            keep.setToolTip("Keep this copy instead of the suggested one (remembered)")
            keep.clicked.connect(lambda _=False: emit(view.keep_requested, member.path))
            notdup = QPushButton("Not a copy")
            notdup.setToolTip("These are different photos: never group them again")
            notdup.clicked.connect(
                lambda _=False: emit(view.not_duplicates_requested, group.keep, member.path))
            for b in (keep, notdup):
                b.setStyleSheet("padding: 2px 6px;")
                row.addWidget(b)
            lay.addLayout(row)

    def mousePressEvent(self, e) -> None:
        if hasattr(self, "_compare"):
            self._compare()
        super().mousePressEvent(e)

    def set_pixmap(self, pm: QPixmap | None, dpr: float) -> None:
        if pm is None:
            return
        scaled = pm.scaled(QSize(CARD_THUMB, CARD_THUMB) * dpr, Qt.AspectRatioMode.KeepAspectRatio,
                           Qt.TransformationMode.SmoothTransformation)
        scaled.setDevicePixelRatio(dpr)
        self.thumb.setPixmap(scaled)


class DuplicatesView(QWidget):
    trash_requested = Signal(list, object)  # paths, groups
    keep_requested = Signal(str)
    not_duplicates_requested = Signal(str, str)
    refresh_requested = Signal()
    progressed = Signal(str, int, int)  # from the query worker's thread: queued to this one

    def __init__(self, loader: ThumbnailLoader, parent=None):
        super().__init__(parent)
        self.loader = loader
        self.groups: list = []  # copy groups (what "Move ... to trash" acts on)
        self.similar: list = []  # similar shots: shown apart, never offered for the trash
        self.checking = False
        self.cards: list[_Card] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 6, 8, 6)
        self.summary = QLabel("Looking for duplicates…")
        f = self.summary.font()
        f.setBold(True)
        self.summary.setFont(f)
        bar.addWidget(self.summary, 1)
        self.refresh = QPushButton(icon("refresh"), "Look again")
        self.refresh.clicked.connect(lambda _=False: emit(self.refresh_requested))
        self.trash_all = QPushButton(icon("trash"), "Move all other copies to trash…")
        self.trash_all.setToolTip("Every copy but the one marked KEEP, in every group")
        self.trash_all.clicked.connect(lambda _=False: self._trash(self.groups))
        bar.addWidget(self.refresh)
        bar.addWidget(self.trash_all)
        lay.addLayout(bar)
        split = QSplitter()
        self.list = QListWidget()
        self.list.setIconSize(QSize(56, 56))
        self.list.setMinimumWidth(200)
        self.list.currentRowChanged.connect(self._show_group)
        split.addWidget(self.list)
        right = QWidget()
        rl = QVBoxLayout(right)
        head = QHBoxLayout()
        self.group_title = QLabel("")
        head.addWidget(self.group_title, 1)
        self.trash_group = QPushButton(icon("trash"), "Move others to trash…")
        self.trash_group.clicked.connect(lambda _=False: self._trash([self.current_group()]))
        head.addWidget(self.trash_group)
        rl.addLayout(head)
        self.cards_area = QScrollArea()
        self.cards_area.setWidgetResizable(True)
        self.cards_area.setFrameShape(QFrame.Shape.NoFrame)
        self.cards_area.setMinimumHeight(300)
        self.compare_view = CompareView()
        vsplit = QSplitter(Qt.Orientation.Vertical)
        vsplit.addWidget(self.cards_area)
        vsplit.addWidget(self.compare_view)
        vsplit.setSizes([300, 420])
        self.compare_view.setMinimumHeight(200)
        vsplit.setChildrenCollapsible(False)
        rl.addWidget(vsplit, 1)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)
        self.empty = QLabel("")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("color: palette(placeholder-text); font-size: 14px;")
        lay.addWidget(self.empty, 1)
        self.split = split
        loader.ready.connect(self._on_thumb)
        self.progressed.connect(self.set_progress)
        self.set_groups([], searching=True)

    def _add_group_item(self, g, similar: bool) -> None:
        """One row of the list: the kept photo's thumbnail, name and what is with it (counts
        say what they count: "1 copy" beside the photo kept, "3 shots" in all)."""
        count = plural(len(g.members), "shot") if similar else plural(len(g.others), "copy", "copies")
        item = QListWidgetItem(f"{os.path.basename(g.keep)}\n{count}")
        item.setToolTip(g.keep)
        pm = self.loader.get(g.keep)
        if pm is not None:
            item.setIcon(QIcon(pm))
        self.list.addItem(item)

    def set_error(self, message: str) -> None:
        """The check failed: say so (an error is never shown as "no duplicates")."""
        self.set_groups([], searching=True)
        self.summary.setText("The duplicates check failed")
        self.empty.setText(f"Could not look for duplicates: {message}")

    def set_findings(self, found, checking: bool = False) -> None:
        """Copy groups and similar shots (a Findings); ``checking``: these are the stored
        results and a fresh check is running (they stay reviewable meanwhile)."""
        self.checking = checking
        if not checking:
            self.progress_text = ""
        self.similar = list(found.similar_shots)
        self.set_groups(found.groups)

    def report_progress(self, stage: str, done: int, total: int) -> None:
        """Called by the check on the worker thread; shown on the UI thread."""
        emit(self.progressed, stage, done, total)

    def set_progress(self, stage: str, done: int, total: int) -> None:
        """The check's progress, shown while the groups stay on screen."""
        self.checking = True
        self.progress_text = f"Checking: {stage} {done} of {total}…" if total else f"Checking: {stage}…"
        self._summarise(False)

    def _summarise(self, searching: bool) -> None:
        copies = sum(len(g.preselected) for g in self.groups)
        if searching:
            text = "Looking for duplicates…"
        elif not self.groups and not self.similar:
            text = "No duplicates found"
        else:
            text = (f"{plural(len(self.groups), 'photo')} with copies"
                    f" · {plural(copies, 'copy', 'copies')} can go")
            if self.similar:
                text += f" · {plural(len(self.similar), 'set')} of similar shots"
        if self.checking and not searching:
            text += " — " + getattr(self, "progress_text", "checking for changes…")
        self.summary.setText(text)

    def set_groups(self, groups: list, searching: bool = False) -> None:
        current = self.current_group()
        self.groups = list(groups)
        if searching:
            self.similar = []
        copies = sum(len(g.preselected) for g in self.groups)
        self._summarise(searching)
        self.trash_all.setEnabled(copies > 0)
        shown = bool(self.groups or self.similar)
        self.split.setVisible(shown)
        self.empty.setVisible(not shown)
        self.empty.setText("Looking for duplicates…" if searching else
                           "No duplicates: every photo in the library is one of a kind.")
        self.list.blockSignals(True)
        self.list.clear()
        keep_row = 0
        for i, g in enumerate(self.groups):
            self._add_group_item(g, False)
            if current is not None and g.keep == current.keep:
                keep_row = i
        if self.similar:
            head = QListWidgetItem("Similar shots (not copies)")
            head.setToolTip("Bursts, other views and look-alikes: never moved to the trash")
            head.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(head)
            for j, g in enumerate(self.similar):
                self._add_group_item(g, True)
                if current is not None and g.keep == current.keep and not self.groups:
                    keep_row = len(self.groups) + 1 + j
        self.list.blockSignals(False)
        if self.groups or self.similar:
            if not self.groups and keep_row == 0:
                keep_row = 1
            self.list.setCurrentRow(keep_row)
            self._show_group(keep_row)

    def _row_group(self, row: int):
        if 0 <= row < len(self.groups):
            return self.groups[row]
        j = row - len(self.groups) - 1
        return self.similar[j] if 0 <= j < len(self.similar) else None

    def current_group(self):
        row = self.list.currentRow() if hasattr(self, "list") else -1
        return self._row_group(row)

    def _show_group(self, row: int) -> None:
        g = self._row_group(row)
        if g is None:
            return
        similar = g in self.similar
        self.trash_group.setEnabled(not similar and bool(g.preselected))
        if similar:
            self.group_title.setText(f"<b>{len(g.members)} similar shots</b> (not copies) — best "
                                     f"shot <b>{os.path.basename(g.keep)}</b>")
        else:
            self.group_title.setText(f"Keeping <b>{os.path.basename(g.keep)}</b> · "
                                     f"{plural(len(g.others), 'copy', 'copies')} of it")
        holder = QWidget()
        h = QHBoxLayout(holder)
        self.cards = []
        for m in g.members:
            card = _Card(self, g, m)
            card.set_pixmap(self.loader.get(m.path), self.devicePixelRatioF())
            h.addWidget(card)
            self.cards.append(card)
        h.addStretch()
        self.cards_area.setWidget(holder)
        if g.others:
            self.compare(g, g.others[0].path)

    def compare(self, group, path: str) -> None:
        member = next(m for m in group.members if m.path == path)
        for card in self.cards:
            card.setProperty("comparing", card.path == path)
            card.setStyleSheet(card.styleSheet())  # re-polish: the property changed
        self.compare_view.show_pair(group.keep, path, (
            f"KEEP: {os.path.basename(group.keep)}",
            f"{os.path.basename(path)} ({member.kind}, {member.score * 100:.0f}% alike)"))

    def _on_thumb(self, path: str) -> None:
        for card in self.cards:
            if card.path == path:
                card.set_pixmap(self.loader.get(path), self.devicePixelRatioF())
        for i in range(self.list.count()):
            g = self._row_group(i)
            if g is not None and g.keep == path:
                pm = self.loader.get(path)
                if pm is not None and self.list.item(i) is not None:
                    self.list.item(i).setIcon(QIcon(pm))

    def _trash(self, groups: list) -> None:
        groups = [g for g in groups if g is not None and g not in self.similar]
        paths = [m.path for g in groups for m in g.preselected]  # never a deliberate edit
        if paths:
            emit(self.trash_requested, paths, groups)
