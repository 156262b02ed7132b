"""The thumbnail grid: one QListView (virtualised: only visible cells are painted) with a
delegate that draws the thumbnail, the file name and, for results, the similarity score."""

from __future__ import annotations

import os

from PySide6.QtCore import QModelIndex, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import (QAbstractItemView, QBoxLayout, QLabel, QListView, QStyle,
                               QStyledItemDelegate)

from photofinder.gui.models import BadgeRole, PathRole, StateRole, value
from photofinder.gui.signals import emit

CELL = QSize(184, 224)
THUMB = 164
ACCENT = QColor("#5e81ac")


class ThumbDelegate(QStyledItemDelegate):
    def sizeHint(self, option, index) -> QSize:
        view = self.parent()
        grid = view.gridSize() if isinstance(view, QListView) else CELL
        return grid if grid.isValid() else CELL

    def paint(self, p: QPainter, option, index: QModelIndex) -> None:
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        r = option.rect.adjusted(5, 5, -5, -5)
        pal = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        if selected or hover:
            bg = QColor(ACCENT)
            bg.setAlpha(70 if selected else 28)
            p.setPen(QPen(ACCENT, 2) if selected else Qt.PenStyle.NoPen)
            p.setBrush(bg)
            p.drawRoundedRect(r, 8, 8)
        if option.state & QStyle.StateFlag.State_HasFocus:
            # the keyboard's place, visible whether or not it is selected (a focus ring)
            ring = QPen(pal.color(QPalette.ColorRole.Highlight).darker(135), 2,
                        Qt.PenStyle.DashLine)
            p.setPen(ring)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(r.adjusted(-2, -2, 2, 2), 9, 9)
        box = QRect(r.x() + (r.width() - THUMB) // 2, r.y() + 6, THUMB, THUMB)
        state = value(index, StateRole)
        pm = value(index, Qt.ItemDataRole.DecorationRole)
        if pm is not None and not pm.isNull():
            size = pm.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(box.center())
            clip = QPainterPath()
            clip.addRoundedRect(target, 4, 4)
            p.setClipPath(clip)
            p.drawPixmap(target, pm)
            p.setClipping(False)
        else:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(pal.color(QPalette.ColorRole.AlternateBase).darker(104))
            p.drawRoundedRect(box.adjusted(8, 8, -8, -8), 6, 6)
            if state == "broken":
                p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
                p.drawText(box, Qt.AlignmentFlag.AlignCenter, "cannot be shown")
        if state in ("pending", "failed"):
            self._badge(p, box, "not indexed yet" if state == "pending" else "failed",
                        QColor("#d08770") if state == "failed" else QColor(0, 0, 0, 150), left=True)
        badge = value(index, BadgeRole)  # "84%": the calibrated chance of the same place
        if badge is not None:              # or object (a word search: its own score)
            self._badge(p, box, badge, SCORE_COLOUR)
        fm = option.fontMetrics
        line = fm.height()
        name_rect = QRect(r.x() + 4, box.bottom() + 6, r.width() - 8, line)
        p.setPen(pal.color(QPalette.ColorRole.Text))
        name = fm.elidedText(value(index, Qt.ItemDataRole.DisplayRole) or "",
                             Qt.TextElideMode.ElideMiddle, name_rect.width())
        p.drawText(name_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, name)
        path = value(index, PathRole) or ""
        folder = os.path.basename(os.path.dirname(path))
        if folder:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(name_rect.translated(0, line),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                       fm.elidedText(folder, Qt.TextElideMode.ElideMiddle, name_rect.width()))
        p.restore()

    def _badge(self, p: QPainter, box: QRect, text: str, colour: QColor, left=False) -> None:
        f = QFont(p.font())
        f.setBold(True)
        f.setPointSizeF(max(7.0, f.pointSizeF() * 0.85))
        p.setFont(f)
        w = p.fontMetrics().horizontalAdvance(text) + 12
        h = p.fontMetrics().height() + 4
        x = box.left() + 4 if left else box.right() - w - 4
        rect = QRect(x, box.top() + 4, w, h)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawRoundedRect(rect, h / 2, h / 2)
        p.setPen(QColor("white"))
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        p.setFont(QFont())


# one colour for every score: the number says how likely (a colour per band said nothing more
# and needed a legend)
SCORE_COLOUR = QColor(0, 0, 0, 150)


class PhotoGrid(QListView):
    """The grid. Signals: ``menu_requested(path, global_pos)``, ``preview_requested(path)``.
    (Delete, Ctrl+Shift+F and the other shortcuts are the window's actions.)"""

    menu_requested = Signal(str, QPoint)
    preview_requested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.SinglePass)
        self.setGridSize(CELL)
        self.setSpacing(0)
        self.setWrapping(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(40)
        self.setMouseTracking(True)
        self.setItemDelegate(ThumbDelegate(self))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setFrameShape(QListView.Shape.NoFrame)
        self.customContextMenuRequested.connect(self._on_menu)
        self.doubleClicked.connect(lambda ix: emit(self.preview_requested, value(ix, PathRole)))

    def resizeEvent(self, e) -> None:
        # cells share the row's width: the grid fills the view instead of leaving a gap
        width = self.viewport().width()
        cols = max(1, width // CELL.width())
        size = QSize(width // cols - 1, CELL.height())  # - 1: the last column must fit
        if size != self.gridSize():
            self.setGridSize(size)
        super().resizeEvent(e)

    def current_path(self) -> str | None:
        ix = self.currentIndex()
        return value(ix, PathRole) if ix.isValid() else None

    def selected_paths(self) -> list[str]:
        rows = sorted(ix.row() for ix in self.selectionModel().selectedIndexes())
        model = self.model()
        paths = [value(model.index(r, 0), PathRole) for r in rows]
        current = self.current_path()
        if not paths and current:
            paths = [current]
        return paths

    def _on_menu(self, pos: QPoint) -> None:
        ix = self.indexAt(pos)
        if not ix.isValid():
            return
        if not self.selectionModel().isSelected(ix):
            self.setCurrentIndex(ix)
        emit(self.menu_requested, value(ix, PathRole), self.viewport().mapToGlobal(pos))

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            path = self.current_path()
            if path:
                emit(self.preview_requested, path)
                return
        super().keyPressEvent(e)


def add_grid_with_placeholder(layout: QBoxLayout, model) -> tuple[PhotoGrid, QLabel]:
    """A photo grid over ``model`` and, in its place when there is nothing to show, a
    centred hint label (hidden until used); both added to ``layout``."""
    grid = PhotoGrid()
    grid.setModel(model)
    layout.addWidget(grid, 1)
    placeholder = QLabel("")
    placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
    placeholder.setStyleSheet("color: palette(placeholder-text); font-size: 14px;")
    placeholder.hide()
    layout.addWidget(placeholder, 1)
    return grid, placeholder
