"""The map of the library: every photo on a 2-D plane (similar photos close together), with
zoom (wheel) and pan (middle or right drag, or Space + drag), a rubber-band selection (left
drag) that can be opened as a grid, searched by, or checked for duplicates, and the results of
the last "Find similar" ringed; a legend under it says what each frame means. Up to SNAP_MAX
photos the layout is snapped to a grid (a linear assignment), so thumbnails never overlap.

Level of detail keeps 10,000 photos at frame rate: far out, one ``drawPoints`` call per colour
(a QPolygonF built once); close in, thumbnails only for the photos in the exposed rectangle
(found with numpy), at most MAX_THUMBS of them, the rest as points. The map itself is computed
by ``MapWorker`` (its own reader Library, off the UI thread, with progress).
"""

from __future__ import annotations

import dataclasses
import html
import os

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QThread, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsScene, QGraphicsView, QHBoxLayout, QLabel,
                               QPushButton, QSizePolicy, QVBoxLayout, QWidget)

from photofinder.errors import PhotofinderError
from photofinder.gui.signals import emit
from photofinder.gui.thumbnails import ThumbnailLoader
from photofinder.library import Library, LibraryMap

THUMB_PX = 56        # a thumbnail's longer side on screen, when close enough to show them
MAX_THUMBS = 400     # more photos than this in view: points
POINT_PX = 4.0
MARGIN = 60.0
HIGHLIGHT = QColor(255, 150, 0)   # the last Find similar's results
SELECTED = QColor(220, 40, 40)    # the photos chosen with the rubber band


def _pen(colour: QColor, width: float) -> QPen:
    """A pen of ``width`` screen pixels whatever the zoom (square dots: round ones cost ten
    times as much at 10,000 points)."""
    pen = QPen(colour, width)
    pen.setCapStyle(Qt.PenCapStyle.SquareCap)
    pen.setCosmetic(True)
    return pen


SNAP_MAX = 2500      # photos: the layout is snapped to a grid up to this many (assignment cost)


def snap_to_grid(xy: np.ndarray) -> np.ndarray:
    """The layout moved onto a square grid, one photo a cell, each photo to the cell nearest
    its place overall (a linear assignment, scipy's): neighbours stay neighbours and, at the
    overview's zoom, no two thumbnails overlap. Beyond SNAP_MAX photos, or without scipy
    (it comes with the map's openTSNE), the layout as it is."""
    n = len(xy)
    if n < 2 or n > SNAP_MAX:
        return xy
    try:
        from scipy.optimize import linear_sum_assignment
        from scipy.spatial.distance import cdist
    except ImportError:
        return xy
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.maximum(hi - lo, 1e-6)
    aspect = float(span[0] / span[1])
    cols = max(1, int(np.ceil(np.sqrt(n * 1.15 * aspect))))
    rows = max(1, int(np.ceil(n * 1.15 / cols)))
    gx, gy = np.meshgrid((np.arange(cols) + 0.5) / cols, (np.arange(rows) + 0.5) / rows)
    cells = np.stack([gx.ravel(), gy.ravel()], axis=1)
    unit = (xy - lo) / span
    who, where = linear_sum_assignment(cdist(unit, cells, "sqeuclidean"))
    out = np.empty_like(xy, dtype=np.float32)
    step = float(max(span[0] / cols, span[1] / rows))  # one cell, in the map's units
    out[who] = cells[where] * np.array([cols, rows]) * step + lo
    return out


def grid_step(xy: np.ndarray) -> float:
    """The distance between neighbouring cells of a snapped layout (0: not a grid)."""
    if len(xy) < 2:
        return 0.0
    d = np.diff(np.unique(np.round(xy[:, 0], 3)))
    return float(d.min()) if len(d) else 0.0


def _polygon(xy: np.ndarray) -> QPolygonF:
    return QPolygonF([QPointF(float(x), float(y)) for x, y in xy])


class MapLayer(QGraphicsItem):
    """All photos as one item: points far out, thumbnails close in."""

    def __init__(self, loader: ThumbnailLoader):
        super().__init__()
        self.loader = loader
        self.paths: list[str] = []
        self.xy = np.empty((0, 2), np.float32)
        self.selected = np.zeros(0, bool)
        self.highlighted = np.zeros(0, bool)
        self._all = QPolygonF()
        self._sel = QPolygonF()
        self._hi = QPolygonF()
        self._rect = QRectF(0, 0, 1, 1)
        self.drawn_thumbs = 0  # in the last paint (tests, benchmark)
        self.step = 0.0  # a snapped layout's cell (0: free positions)
        self.max_thumbs = MAX_THUMBS
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)

    def set_map(self, paths: list[str], xy: np.ndarray) -> None:
        self.prepareGeometryChange()
        self.paths = list(paths)
        self.xy = np.asarray(xy, np.float32).reshape(-1, 2)
        self.selected = np.zeros(len(self.paths), bool)
        self.highlighted = np.zeros(len(self.paths), bool)
        self.step = grid_step(self.xy)
        self._all = _polygon(self.xy)
        self._sel, self._hi = QPolygonF(), QPolygonF()
        self._index = {p: i for i, p in enumerate(self.paths)}
        if len(self.xy):
            lo, hi = self.xy.min(axis=0), self.xy.max(axis=0)
            self._rect = QRectF(float(lo[0]) - MARGIN, float(lo[1]) - MARGIN,
                                float(hi[0] - lo[0]) + 2 * MARGIN, float(hi[1] - lo[1]) + 2 * MARGIN)
        self.update()

    def set_selected(self, mask: np.ndarray) -> None:
        self.selected = mask
        self._sel = _polygon(self.xy[mask])
        self.update()

    def set_highlighted(self, paths) -> None:
        mask = np.zeros(len(self.paths), bool)
        for p in paths:
            i = self._index.get(p) if self.paths else None
            if i is not None:
                mask[i] = True
        self.highlighted = mask
        self._hi = _polygon(self.xy[mask])
        self.update()

    def in_rect(self, rect: QRectF) -> np.ndarray:
        x, y = self.xy[:, 0], self.xy[:, 1]
        return (x >= rect.left()) & (x <= rect.right()) & (y >= rect.top()) & (y <= rect.bottom())

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option, widget=None) -> None:
        scale = painter.worldTransform().m11() or 1.0
        exposed = option.exposedRect
        visible = np.flatnonzero(self.in_rect(exposed)) if len(self.xy) else np.zeros(0, int)
        px = 1.0 / scale  # one screen pixel in scene units
        if 0 < len(visible) <= self.max_thumbs:
            # at most about twice the view's area in thumbnails (overdraw is what costs); on a
            # snapped layout, at most one cell (less a gap): never overlapping
            cap = float(np.sqrt(2.0 * exposed.width() * exposed.height() / len(visible)))
            cap = max(THUMB_PX * px, cap)
            if self.step > 0:
                cap = min(cap, self.step * 0.9)
            self._paint_thumbs(painter, visible, px, cap)
            return
        self.drawn_thumbs = 0
        painter.setPen(_pen(QColor(90, 140, 220), POINT_PX))
        painter.drawPoints(self._all)
        for poly, colour, size in ((self._hi, HIGHLIGHT, POINT_PX * 2.5),
                                   (self._sel, SELECTED, POINT_PX * 2.0)):
            if poly.size():
                painter.setPen(_pen(colour, size))
                painter.drawPoints(poly)

    def _paint_thumbs(self, painter: QPainter, visible: np.ndarray, px: float,
                      cap: float) -> None:
        # THUMB_PX on screen; closer in they grow with the zoom (up to the thumbnail's size
        # and ``cap``, in scene units)
        side = min(max(THUMB_PX * px, 20.0), 256 * px, cap) if self.step <= 0 else \
            min(THUMB_PX * px * 2.5, 256 * px, cap)
        drawn = 0
        painter.setBrush(QBrush())
        marked = []
        for i in visible:
            x, y = float(self.xy[i, 0]), float(self.xy[i, 1])
            pm = self.loader.get(self.paths[i])
            if pm is not None and pm.width() and pm.height():
                f = side / max(pm.width(), pm.height())
                w, h = pm.width() * f, pm.height() * f
                target = QRectF(x - w / 2, y - h / 2, w, h)
                painter.drawPixmap(target, pm, QRectF(pm.rect()))
                drawn += 1
            else:
                target = QRectF(x - side / 2, y - side / 2, side, side)
                painter.fillRect(target, QColor(128, 128, 128, 90))
            if self.highlighted[i] or self.selected[i]:
                marked.append((i, target))
        # on top: a search's results ringed (HIGHLIGHT), the selection tinted and framed
        # (SELECTED); the legend under the map says which is which
        for i, target in marked:
            if self.selected[i]:
                painter.fillRect(target, QColor(SELECTED.red(), SELECTED.green(),
                                                SELECTED.blue(), 70))
                painter.setPen(_pen(SELECTED, 3))
                painter.drawRect(target)
            if self.highlighted[i]:
                painter.setPen(_pen(HIGHLIGHT, 3))
                painter.drawRect(target.adjusted(-3 * px, -3 * px, 3 * px, 3 * px))
        self.drawn_thumbs = drawn


class MapCanvas(QGraphicsView):
    selection_changed = Signal(list)  # paths
    activated = Signal(str)           # a photo double-clicked

    def __init__(self, loader: ThumbnailLoader, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.layer = MapLayer(loader)
        self.scene().addItem(self.layer)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setBackgroundBrush(self.palette().base())
        self._pan_from = None
        self._band = QRectF()
        self._press = None
        self.rubberBandChanged.connect(self._on_band)
        loader.ready.connect(lambda _p: self.viewport().update())

    def set_map(self, paths: list[str], xy: np.ndarray) -> None:
        self.layer.set_map(paths, xy)
        r = self.layer.boundingRect()  # room around it: any photo can be brought to the centre
        self.scene().setSceneRect(r.adjusted(-r.width() / 2, -r.height() / 2,
                                             r.width() / 2, r.height() / 2))
        self.fit()

    def fit(self) -> None:
        self.fitInView(self.layer.boundingRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def select_rect(self, rect: QRectF) -> list[str]:
        mask = self.layer.in_rect(rect)
        self.layer.set_selected(mask)
        paths = [self.layer.paths[i] for i in np.flatnonzero(mask)]
        emit(self.selection_changed, paths)
        return paths

    def selected_paths(self) -> list[str]:
        return [self.layer.paths[i] for i in np.flatnonzero(self.layer.selected)]

    def zoom(self, factor: float) -> None:
        self.scale(factor, factor)

    # -- input ----------------------------------------------------------------------------
    def _on_band(self, rect, from_scene, to_scene) -> None:
        if not rect.isNull():
            self._band = QRectF(from_scene, to_scene).normalized()

    def wheelEvent(self, e) -> None:
        self.zoom(1.0015 ** e.angleDelta().y())

    def mousePressEvent(self, e) -> None:
        if e.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton):
            self._pan_from = e.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        self._band = QRectF()
        self._press = self.mapToScene(e.position().toPoint())
        super().mousePressEvent(e)

    def mouseMoveEvent(self, e) -> None:
        if self._pan_from is not None:
            d = e.position() - self._pan_from
            self._pan_from = e.position()
            h, v = self.horizontalScrollBar(), self.verticalScrollBar()
            h.setValue(h.value() - int(d.x()))
            v.setValue(v.value() - int(d.y()))
            return
        super().mouseMoveEvent(e)

    def mouseReleaseEvent(self, e) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            return
        banded = not self._band.isNull()
        super().mouseReleaseEvent(e)
        if banded and self._press is not None:
            # from where the drag began to where it ended (the band's own last rectangle
            # lags a move behind)
            self.select_rect(QRectF(self._press, self.mapToScene(e.position().toPoint()))
                             .normalized())
        self._band = QRectF()

    def mouseDoubleClickEvent(self, e) -> None:
        p = self.mapToScene(e.position().toPoint())
        if len(self.layer.xy):
            d = np.hypot(self.layer.xy[:, 0] - p.x(), self.layer.xy[:, 1] - p.y())
            i = int(np.argmin(d))
            if d[i] * self.transform().m11() < THUMB_PX:
                emit(self.activated, self.layer.paths[i])


class MapView(QWidget):
    """The map with its bar: what is selected and what can be done with it."""

    open_grid = Signal(list)       # paths: show them as a grid
    search_many = Signal(list)     # paths: find photos like these
    check_duplicates = Signal(list)  # paths: copies among these
    refresh_requested = Signal()

    def __init__(self, loader: ThumbnailLoader, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 6, 8, 6)
        self.info = QLabel("The map is not made yet.")
        # a long status line must not widen the window: it is cut, and shown whole as a tip
        self.info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar.addWidget(self.info, 1)
        self.btn_grid = QPushButton("Open as grid")
        self.btn_search = QPushButton("Find similar to these")
        self.btn_dups = QPushButton("Check for duplicates")
        self.btn_fit = QPushButton("Fit")
        for b, sig in ((self.btn_grid, self.open_grid), (self.btn_search, self.search_many),
                       (self.btn_dups, self.check_duplicates)):
            b.clicked.connect(lambda _=False, s=sig: self._emit_selection(s))
            b.setEnabled(False)
            bar.addWidget(b)
        bar.addWidget(self.btn_fit)
        lay.addLayout(bar)
        self.canvas = MapCanvas(loader)
        self.btn_fit.clicked.connect(self.canvas.fit)
        self.canvas.selection_changed.connect(self._on_selection)
        lay.addWidget(self.canvas, 1)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.legend.setContentsMargins(8, 4, 8, 6)
        lay.addWidget(self.legend)
        self.count = 0
        self.highlight_query = ""
        self._legend()

    def _legend(self) -> None:
        """What the frames mean (only those on the map now), and how to move about."""
        box = '<span style="color:{}; font-size:14px">&#9635;</span>'
        parts = []
        if self.canvas.layer.highlighted.any():
            what = f" for {html.escape(self.highlight_query)}" if self.highlight_query else ""
            parts.append(f"{box.format(HIGHLIGHT.name())} the results of Find similar{what}")
        if self.canvas.layer.selected.any():
            parts.append(f"{box.format(SELECTED.name())} selected")
        hint = ("Drag to select · wheel to zoom · right-drag to pan · double-click to "
                "preview")
        self.legend.setText(" &nbsp; ".join(parts + [f'<span style="color:gray">{hint}</span>']))

    def set_map(self, m: LibraryMap) -> None:
        self.count = len(m.paths)
        self.canvas.set_map(m.paths, snap_to_grid(np.asarray(m.xy, np.float32)))
        self._on_selection([])

    def set_message(self, text: str) -> None:
        self.info.setText(text)
        self.info.setToolTip(text)

    def highlight(self, paths, query: str = "") -> None:
        self.highlight_query = os.path.basename(query) if query else ""
        self.canvas.layer.set_highlighted(paths)
        self._legend()

    def _on_selection(self, paths: list) -> None:
        for b in (self.btn_grid, self.btn_search, self.btn_dups):
            b.setEnabled(bool(paths))
        self.set_message(f"{len(paths)} of {self.count} photos selected" if paths
                         else f"{self.count} photos, similar ones close together")
        self._legend()

    def _emit_selection(self, signal) -> None:
        paths = self.canvas.selected_paths()
        if paths:
            emit(signal, paths)


class MapWorker(QThread):
    """Computes (or extends) the map on its own reader Library, off the UI thread."""

    done = Signal(object)         # LibraryMap
    failed = Signal(str)
    progress = Signal(str, int, int)

    def __init__(self, library_path: str, embedder=None, parent=None):
        super().__init__(parent)
        self.library_path = library_path
        self.embedder = embedder

    def run(self) -> None:
        try:
            with Library(self.library_path, embedder=self.embedder) as lib:
                m = lib.map_coordinates(lambda s, d, t: emit(self.progress, s, d, t))
        except PhotofinderError as e:
            emit(self.failed, str(e))
            return
        except Exception as e:  # a bug: said, not a dead thread
            emit(self.failed, f"the map failed: {type(e).__name__}: {e}")
            return
        emit(self.done, m)


def duplicates_among(lib: Library, paths: list[str]):
    """(A query job) the duplicates check, kept to the groups (copies and similar shots) with
    two or more members among ``paths``: a Findings for the duplicates view."""
    wanted = {os.path.abspath(p) for p in paths}
    lib.catch_up()
    found = lib.find_duplicates()

    def among(groups):
        return [g for g in groups if sum(m.path in wanted for m in g.members) >= 2]

    return dataclasses.replace(found, groups=among(found.groups),
                               similar_shots=among(found.similar_shots))
