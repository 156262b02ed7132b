"""Duplicates review: groups on the left; on the right the chosen group's copies as cards
(the suggested keeper marked, with the reasons), a side-by-side compare of the keeper and a
copy, and the clean-up: each copy's "Move to trash" mark (the pre-selected copies marked to
begin with), "Move marked to trash" (one group or all), "Keep this", "Not a copy". All of it
by keyboard too (gui/shortcuts.py: REVIEW): Up/Down groups, Left/Right copies, Space marks,
K keeps, N not a copy, Delete trashes the marked, +/-/0/1 zoom the compare; Undo is
Ctrl+Z. Below the copy groups, apart, "Similar shots" (bursts, other views): compared, never
offered for the trash. The view opens at once on the stored results and shows the check's
progress while it runs."""

from __future__ import annotations

import os
import re

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap, QShortcut
from PySide6.QtWidgets import (QCheckBox, QFrame, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QPushButton, QScrollArea, QSplitter, QVBoxLayout,
                               QWidget)

from photofinder.gui import shortcuts as K
from photofinder.gui.compare import CompareView
from photofinder.gui.icons import icon
from photofinder.gui.signals import emit
from photofinder.gui.thumbnails import ThumbnailLoader

CARD_THUMB = 112


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


_ALIKE = re.compile(r"looks alike -?[0-9.]+( \(not checked\))?(, |; )?")


def plain_reason(reason: str) -> str:
    """A reason without the raw cosine ("looks alike 0.89"): a number on another scale than
    the one the app shows would contradict it (issue 23)."""
    return _ALIKE.sub("", reason).replace(": , ", ": ").rstrip(" ,;:")


def kind_words(member) -> str:
    """What a member is, in words (no number: a copy is a copy; a similar shot is not)."""
    if member.kind == "similar":
        return "similar shot"
    if member.kind == "exact":
        return "exact copy"
    return f"{member.edit} edit" if member.edit else "edited copy"


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
        text = "BEST SHOT" if keeper and similar else "KEEP" if keeper else kind_words(member)
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
        text = [plain_reason(r).removeprefix("keep: ").removeprefix("edited copy: ")
                .removeprefix("another shot of the same scene: ") for r in member.reasons]
        # whole, one clause a line ("most real pixels: …", "not turned or mirrored …"): a
        # reason cut off mid-sentence said less than none (issue 23: 4)
        text = [c[:1].upper() + c[1:] for t in text[:2] for c in t.split("; ") if c]
        reasons = QLabel("\n".join(text))
        reasons.setWordWrap(True)
        reasons.setToolTip("\n".join(plain_reason(r) for r in member.reasons))
        small = reasons.font()
        small.setPixelSize(11)
        reasons.setFont(small)  # (a style sheet's size would not be in fontMetrics() yet)
        reasons.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(reasons)
        lay.addStretch()
        if not keeper:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
            self.setToolTip("Click to compare with the copy to keep")
            self._compare = lambda: view.compare(group, member.path)
        self.mark = None
        if not keeper and not similar:
            self.mark = QCheckBox("Move to trash")
            self.mark.setToolTip("Marked copies go to the trash with Delete or “Move marked to "
                                 "trash” (Space marks or unmarks the copy shown)")
            self.mark.setChecked(member.path in view.marked_in(group))
            self.mark.toggled.connect(lambda on: view.set_marked(group, member.path, on))
            lay.addWidget(self.mark)
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
        # each group's copies marked for the trash (by its keeper's path): the pre-selected
        # ones until the user marks or unmarks one (Space, or the card's box)
        self.marks: dict[str, set[str]] = {}
        self.shown: str | None = None  # the copy compared with the keeper (Left, Right)
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
        self.trash_all = QPushButton(icon("trash"), "Move all marked copies to trash…")
        self.trash_all.setToolTip("Every copy marked “Move to trash”, in every group (never the "
                                  "one marked KEEP, never a similar shot)")
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
        self.trash_group = QPushButton(icon("trash"), "Move marked to trash…")
        self.trash_group.setToolTip("The copies marked “Move to trash” in this group (Delete)")
        self.trash_group.clicked.connect(lambda _=False: self.trash_marked())
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
        self._keys()

    # -- the keyboard review (gui/shortcuts.py: REVIEW) -------------------------------------
    def _keys(self) -> None:
        """The review's keys, anywhere in this view (Delete and Ctrl+Z are the window's
        actions: Delete comes to ``trash_marked``)."""
        z = self.compare_view
        for key, slot in ((K.NEXT_GROUP, lambda: self.step_group(1)),
                          (K.PREV_GROUP, lambda: self.step_group(-1)),
                          (K.NEXT_MEMBER, lambda: self.step_member(1)),
                          (K.PREV_MEMBER, lambda: self.step_member(-1)),
                          (K.KEEP, self.keep_shown), (K.MARK, self.toggle_shown),
                          (K.NOT_COPY, self.not_copy_shown),
                          (K.ZOOM_IN, lambda: z.zoom(1.25)), (K.ZOOM_OUT, lambda: z.zoom(0.8)),
                          (K.ZOOM_FIT, z.fit), (K.ZOOM_100, z.actual_size)):
            for seq in key.sequences():
                sc = QShortcut(seq, self, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
                sc.activated.connect(slot)

    def _group_rows(self) -> list[int]:
        return [r for r in range(self.list.count()) if self._row_group(r) is not None]

    def step_group(self, step: int) -> None:
        """Down/Up: the next or previous group (copies, then similar shots)."""
        rows = self._group_rows()
        if not rows:
            return
        row = self.list.currentRow()
        later = [r for r in rows if (r > row if step > 0 else r < row)]
        if later:
            self.list.setCurrentRow(later[0] if step > 0 else later[-1])

    def step_member(self, step: int) -> None:
        """Right/Left: the next or previous photo of the group, compared with the keeper."""
        g = self.current_group()
        if g is None or not g.others:
            return
        paths = [m.path for m in g.others]
        i = paths.index(self.shown) if self.shown in paths else -1
        self.compare(g, paths[max(0, min(len(paths) - 1, i + step))])

    def marked_in(self, group) -> set[str]:
        if group is None or group in self.similar:
            return set()
        return self.marks.setdefault(group.keep, {m.path for m in group.preselected})

    def set_marked(self, group, path: str, on: bool) -> None:
        marks = self.marked_in(group)
        (marks.add if on else marks.discard)(path)
        for card in self.cards:
            if card.path == path and card.mark is not None and card.mark.isChecked() != on:
                card.mark.setChecked(on)
        if group is self.current_group():
            self.trash_group.setEnabled(bool(marks))
        self.trash_all.setEnabled(any(self.marked_in(g) for g in self.groups))
        self._summarise(False)

    def toggle_shown(self) -> None:
        """Space: mark or unmark the copy shown for the trash."""
        g = self.current_group()
        if g is not None and g not in self.similar and self.shown:
            self.set_marked(g, self.shown, self.shown not in self.marked_in(g))

    def keep_shown(self) -> None:
        """K: keep the photo shown instead of the suggested one (remembered)."""
        g = self.current_group()
        if g is not None and g not in self.similar and self.shown:
            emit(self.keep_requested, self.shown)

    def not_copy_shown(self) -> None:
        """N: the photo shown is not a copy of the keeper: never group them again."""
        g = self.current_group()
        if g is not None and g not in self.similar and self.shown:
            emit(self.not_duplicates_requested, g.keep, self.shown)

    def trash_marked(self) -> None:
        """Delete, or "Move marked to trash…": the marked copies of the group shown."""
        self._trash([self.current_group()])

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
        copies = sum(len(self.marked_in(g)) for g in self.groups)
        if searching:
            text = "Looking for duplicates…"
        elif not self.groups and not self.similar:
            text = "No duplicates found"
        else:
            text = (f"{plural(len(self.groups), 'photo')} with copies"
                    f" · {plural(copies, 'copy', 'copies')} marked for the trash")
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
        live = {g.keep: {m.path for m in g.members} for g in self.groups}
        self.marks = {k: v & live[k] for k, v in self.marks.items() if k in live}
        copies = sum(len(self.marked_in(g)) for g in self.groups)
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
        self.trash_group.setEnabled(not similar and bool(self.marked_in(g)))
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
        self.shown = None
        if g.others:
            self.compare(g, g.others[0].path)

    def compare(self, group, path: str) -> None:
        member = next(m for m in group.members if m.path == path)
        self.shown = path
        for card in self.cards:
            card.setProperty("comparing", card.path == path)
            card.setStyleSheet(card.styleSheet())  # re-polish: the property changed
        self.compare_view.show_pair(group.keep, path, (
            f"KEEP: {os.path.basename(group.keep)}",
            f"{os.path.basename(path)} ({kind_words(member)})"))

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
        # the marked copies: the pre-selected (never a deliberate edit) unless the user said
        paths = [m.path for g in groups for m in g.others if m.path in self.marked_in(g)]
        if paths:
            emit(self.trash_requested, paths, groups)
