"""Which copy of a group the others agree with: the keeper's ``consensus`` rule (keeper.py).

Each edit moves a copy away from the original in its own direction: a caption here, grain
there, a blur, a brighter tone, a frame. Lined up in one frame, the per-pixel median of the
group is therefore the original's picture wherever at most half the copies changed that
pixel, and a copy's distance from the median is what its own edits changed: the mean
absolute difference in grey and in the coarse colour cells over the picture it shares with
at least two others, plus ``OUTLIER_WEIGHT`` grey levels for each 1% of its pixels clearly
changed (an overlay: a date stamp moves few pixels far). The original's is the smallest, up
to the noise of lining up; a copy no edit touched but a geometric one (a crop, a mirror, a
resize) is as close, and the later rules tell those apart.

Why by hand: no library computes a consensus of pictures lined up by our own pairwise
transforms. OpenCV warps them (one ``warpAffine`` each, on the cached 320-px grey and colour
features); numpy takes the median. The pairs' transforms (verify.Geometry, B's grey -> A's
grey, B mirrored first) are chained from the copy with the most picture, so no pair is
aligned again.

The frame is the copy with the most picture; the median is taken over the copies that
have all of its detail (a thumbnail enlarged into it is blurred: many thumbnails would make
a blurred median that a slightly degraded copy sits closest to), and every copy's distance
is measured from it. At most ``MAX_COPIES`` copies take part (the nearest the frame); a
pixel counts where at least ``MIN_COVER`` copies show it; two copies tie by construction
(their median is their mean), so the rule needs three.
"""

from __future__ import annotations

from collections import defaultdict

import cv2
import numpy as np

from photofinder.dedup.features import CHROMA_CELL, Features

OUTLIER_GREY = 24.0  # a pixel this far from the median is changed, not noisy (an overlay)
OUTLIER_WEIGHT = 100.0  # ... and each 1% of such pixels counts as 1 grey level more
MIN_COVER = 3  # copies that show a pixel for its median to say anything
MAX_COPIES = 12  # the best-linked copies of a larger group
FINE_SCALE = 1.25  # a copy's pixels at most this many of the frame's: all of its detail
MIN_PIXELS = 400  # of a copy's picture shared with the others, for a distance
ERODE = np.ones((5, 5), np.uint8)  # a warped edge is no picture
ERODE_CELLS = np.ones((3, 3), np.uint8)  # ... nor a colour cell astride it


def _h(m) -> np.ndarray:
    return np.vstack([np.asarray(m, np.float64), [0.0, 0.0, 1.0]])


def _mirror(width: int) -> np.ndarray:
    return np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


def to_frame(nodes: set, edges: list, feats: dict[str, Features]) -> tuple[str, dict]:
    """(the reference node, node -> 3x3 map of its grey pixels into the reference's), chained
    through the pairs' geometry from the node with the most picture (the finest frame);
    nodes no geometry reaches are left out. ``edges``: (a, b, score, why, Geometry | None)."""
    near: dict = defaultdict(list)
    for a, b, _, _, geo in edges:
        if geo is None or a not in feats or b not in feats or a not in nodes or b not in nodes:
            continue
        m = _h(geo.matrix)  # B's grey (mirrored first) -> A's grey
        if geo.mirrored:
            m = m @ _mirror(feats[b].grey.shape[1])
        near[a].append((b, m))
        near[b].append((a, np.linalg.inv(m)))
    if not near:
        return "", {}
    ref = max(sorted(near), key=lambda n: (feats[n].content, len(near[n])))
    frame = {ref: np.eye(3)}
    todo = [ref]
    while todo:
        x = todo.pop(0)
        for y, m in near[x]:  # y's pixels -> x's pixels
            if y not in frame:
                frame[y] = frame[x] @ m
                todo.append(y)
    return ref, frame


def _median(stack: np.ndarray) -> np.ndarray:
    """Per-pixel median over the first axis, NaN where nothing is shown."""
    count = (~np.isnan(stack)).sum(0)
    ordered = np.sort(stack, axis=0)  # NaN (not shown) last
    lo = np.clip((count - 1) // 2, 0, len(stack) - 1)[None]
    hi = np.clip(count // 2, 0, len(stack) - 1)[None]
    median = 0.5 * (np.take_along_axis(ordered, lo, 0) + np.take_along_axis(ordered, hi, 0))[0]
    median[count < MIN_COVER] = np.nan
    return median


def _warped(feats: dict[str, Features], names: list[str], frame: dict, shape: tuple,
            cell: float) -> tuple[np.ndarray, np.ndarray]:
    """Every copy's grey (``cell`` 1) or chroma (``cell`` CHROMA_CELL: (h, w, 2) cells) in
    the reference's frame, and where its picture is (its added border left out)."""
    h, w = shape
    half = (cell - 1) / (2.0 * cell)  # pixel centres -> cell centres
    down = np.array([[1.0 / cell, 0.0, -half], [0.0, 1.0 / cell, -half], [0.0, 0.0, 1.0]])
    out, shown = [], []
    for n in names:
        f = feats[n]
        pic = f.grey if cell == 1 else f.chroma
        if pic is None:
            pic = np.zeros((*_cells(f.grey.shape), 2), np.int8)
        x0, y0, x1, y1 = (int(round(v / cell)) for v in f.box)
        box = np.zeros(pic.shape[:2], np.uint8)
        box[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)] = 1  # the picture without its border
        m = (down @ frame[n] @ np.linalg.inv(down))[:2]
        out.append(cv2.warpAffine(pic.astype(np.float32), m, (w, h), flags=cv2.INTER_LINEAR))
        inside = cv2.warpAffine(box, m, (w, h), flags=cv2.INTER_NEAREST)
        shown.append(cv2.erode(inside, ERODE if cell == 1 else ERODE_CELLS) > 0)
    return np.stack(out), np.stack(shown)


def _cells(shape: tuple) -> tuple[int, int]:
    return -(-shape[0] // CHROMA_CELL), -(-shape[1] // CHROMA_CELL)


def _far(pics: np.ndarray, shown: np.ndarray, fine: np.ndarray) -> list[float | None]:
    """Each copy's mean absolute difference from the median of the ``fine`` copies (all of
    them when fewer than ``MIN_COVER`` are), where at least ``MIN_COVER`` show the pixel."""
    chans = pics.shape[3:] or (1,)
    mask = shown.reshape(*shown.shape, *([1] * (pics.ndim - shown.ndim)))
    stack = np.where(mask, pics, np.nan).astype(np.float32)
    if np.count_nonzero(fine) >= MIN_COVER:
        stack = stack[fine]
    median = _median(stack)
    out: list[float | None] = []
    for i in range(len(pics)):
        where = shown[i] & ~np.isnan(median.reshape(median.shape[0], median.shape[1], -1)[..., 0])
        if np.count_nonzero(where) * (1 if pics.ndim == 3 else CHROMA_CELL ** 2) < MIN_PIXELS:
            out.append(None)
            continue
        diff = np.abs(pics[i][where] - median[where])
        mean = float(diff.sum() / (np.count_nonzero(where) * int(np.prod(chans))))
        out.append(mean + OUTLIER_WEIGHT * float(np.mean(diff > OUTLIER_GREY)))
    return out


def distances(nodes: set, edges: list, feats: dict[str, Features]) -> dict[str, float]:
    """node -> mean absolute difference from the group's per-pixel median, grey levels plus
    the two coarse colour channels (a black-and-white or re-coloured copy is as far as its
    colour moved), for the copies the pairs' geometry links; {} when fewer than
    ``MIN_COVER`` take part."""
    ref, frame = to_frame(nodes, edges, feats)
    if len(frame) < MIN_COVER:
        return {}
    if len(frame) > MAX_COPIES:  # the nearest the reference
        frame = dict(list(frame.items())[:MAX_COPIES])
    names = list(frame)
    # the median from the copies with all the detail of the frame: a thumbnail enlarged
    # into it is blurred, and many of them would pull the median away from the original
    fine = np.array([abs(np.linalg.det(frame[n][:2, :2])) <= FINE_SCALE ** 2 for n in names])
    grey, shown = _warped(feats, names, frame, feats[ref].grey.shape, 1)
    chroma, cshown = _warped(feats, names, frame, _cells(feats[ref].grey.shape), CHROMA_CELL)
    far_grey = _far(grey, shown, fine)
    far_colour = _far(chroma, cshown, fine)
    out = {n: g + (c or 0.0) for n, g, c in zip(names, far_grey, far_colour) if g is not None}
    return out if len(out) >= MIN_COVER else {}
