"""Local features of one photo, computed once and cached in the catalogue (by content hash).

Only photos that become duplicate candidates get them: each file is decoded once at a small
size (JPEG draft decoding: a fraction of a full decode), turned grey, and OpenCV's ORB finds
up to ``N_FEATURES`` keypoints. The cached blob holds:

- ``grey``: the picture, grey, longer side ``SIDE`` px (the pixel check after alignment);
- ``points`` / ``desc``: ORB keypoints (x, y in ``grey``'s pixels) and 32-byte descriptors,
  strongest first;
- ``box``: the picture without a uniform border (x0, y0, x1, y1 in ``grey``'s pixels): an
  added frame is no picture content;
- ``sharpness``: variance of the Laplacian (the best shot of a burst is the sharpest);
- ``chroma``: the colour, coarse: (R - G, B - G) / 2 per ``CHROMA_CELL`` x ``CHROMA_CELL``
  cell of ``grey`` (int8; zeros for a grey picture): a tone or colour edit (black and white,
  sepia, a filter) shows there, lined up with the other side (verdict.py).
A small picture's keypoints are found on it enlarged (ORB's patch needs pixels: a 96-px
thumbnail has next to none of its own), at ``grey``'s coordinates.

Blobs are a tiny fixed header plus raw arrays (no pickle).
"""

from __future__ import annotations

import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable, TypeVar

import cv2
import numpy as np

from photofinder.pixels import imaging

K = TypeVar("K")  # compute_many's job keys
VERSION = 4
SIDE = 320
N_FEATURES = 400
BORDER_STD = 3.0  # a row/column this uniform, in the border colour, is frame, not picture
_HEAD = struct.Struct("<HHHHIffff f")  # version, w, h, n points, full w*h, box, sharpness
CHROMA_CELL = 8
SMALL = 200  # a picture's long side below this: keypoints on it enlarged to this

cv2.setNumThreads(1)  # callers run photos in parallel; OpenCV's own threads would fight them


@dataclass
class Features:
    grey: np.ndarray  # (h, w) uint8
    points: np.ndarray  # (n, 2) float32
    desc: np.ndarray  # (n, 32) uint8
    box: tuple[float, float, float, float]
    sharpness: float
    full_pixels: int = 0  # width * height of the file as displayed
    chroma: np.ndarray | None = None  # (ceil(h / CELL), ceil(w / CELL), 2) int8
    # (grey, points, desc) of the picture mirrored, computed when first needed (not stored)
    mirrored: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def content(self) -> float:
        """Picture area without a border, in ``grey`` pixels."""
        x0, y0, x1, y1 = self.box
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)

    def to_blob(self) -> bytes:
        h, w = self.grey.shape
        head = _HEAD.pack(VERSION, w, h, len(self.points), min(self.full_pixels, 2**32 - 1),
                          *self.box, self.sharpness)
        chroma = self.chroma if self.chroma is not None else np.zeros(_chroma_shape(h, w), np.int8)
        return (head + self.grey.tobytes() + self.points.astype(np.float32).tobytes()
                + self.desc.astype(np.uint8).tobytes() + chroma.astype(np.int8).tobytes())

    @classmethod
    def from_blob(cls, blob: bytes) -> "Features | None":
        if len(blob) < _HEAD.size:
            return None
        v, w, h, n, full, x0, y0, x1, y1, sharp = _HEAD.unpack_from(blob)
        ch, cw, _ = _chroma_shape(h, w)
        if v != VERSION or len(blob) != _HEAD.size + w * h + n * 8 + n * 32 + ch * cw * 2:
            return None
        o = _HEAD.size
        grey = np.frombuffer(blob, np.uint8, w * h, o).reshape(h, w)
        o += w * h
        pts = np.frombuffer(blob, np.float32, n * 2, o).reshape(n, 2)
        o += n * 8
        desc = np.frombuffer(blob, np.uint8, n * 32, o).reshape(n, 32)
        o += n * 32
        chroma = np.frombuffer(blob, np.int8, ch * cw * 2, o).reshape(ch, cw, 2)
        return cls(grey, pts, desc, (x0, y0, x1, y1), sharp, full, chroma)


def _chroma_shape(h: int, w: int) -> tuple[int, int, int]:
    return -(-h // CHROMA_CELL), -(-w // CHROMA_CELL), 2


def keypoints(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ORB on a grey picture: (points (n, 2) float32, descriptors (n, 32) uint8); a small
    picture's found on it enlarged (to ``SMALL`` px), given at its own coordinates."""
    up = SMALL / max(grey.shape)
    if up > 1.05:
        big = cv2.resize(grey, (round(grey.shape[1] * up), round(grey.shape[0] * up)),
                         interpolation=cv2.INTER_CUBIC)
        pts, desc = _orb(big)
        return pts * np.float32(grey.shape[1] / big.shape[1]), desc
    return _orb(grey)


def _orb(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    kps, desc = cv2.ORB_create(  # pyright: ignore[reportAttributeAccessIssue]
        nfeatures=N_FEATURES, scaleFactor=1.2, nlevels=6, edgeThreshold=15, patchSize=15,
        fastThreshold=10).detectAndCompute(grey, None)
    if desc is None or not kps:
        return np.empty((0, 2), np.float32), np.empty((0, 32), np.uint8)
    order = np.argsort([-k.response for k in kps], kind="stable")  # strongest first
    return np.array([kps[i].pt for i in order], np.float32), desc[order]


def content_box(grey: np.ndarray) -> tuple[float, float, float, float]:
    """The picture inside a uniform frame (white, black, any one colour)."""
    g = grey.astype(np.float32)
    h, w = g.shape

    def trim(lines: np.ndarray) -> tuple[int, float]:
        ref = float(np.median(lines[0]))
        n = 0
        for line in lines:
            if line.std() > BORDER_STD or abs(float(line.mean()) - ref) > 2 * BORDER_STD:
                break
            n += 1
        return n, ref

    def pair(a, b) -> tuple[int, int]:
        # a frame is on both opposite sides, in one colour; a flat sky on one edge is picture
        (na, ra), (nb, rb) = trim(a), trim(b)
        return (na, nb) if na and nb and abs(ra - rb) <= 4 * BORDER_STD else (0, 0)

    top, bottom = pair(g, g[::-1])
    left, right = pair(g.T, g.T[::-1])
    if top + bottom >= h - 4 or left + right >= w - 4:  # a flat picture: all of it
        return 0.0, 0.0, float(w), float(h)
    return float(left), float(top), float(w - right), float(h - bottom)


def from_image(rgb_or_grey: np.ndarray, full_pixels: int = 0) -> Features:
    """Features of a decoded picture (uint8, RGB or grey, orientation applied)."""
    h, w = rgb_or_grey.shape[:2]
    scale = SIDE / max(h, w)
    small = rgb_or_grey
    if scale < 1:
        small = cv2.resize(rgb_or_grey, (max(1, round(w * scale)), max(1, round(h * scale))),
                           interpolation=cv2.INTER_AREA)
    if small.ndim == 2:
        grey = small
        chroma = np.zeros(_chroma_shape(*grey.shape), np.int8)
    else:
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        chroma = _chroma(small)
    grey = np.ascontiguousarray(grey)
    pts, desc = keypoints(grey)
    sharp = float(cv2.Laplacian(grey, cv2.CV_32F).var())
    return Features(grey, pts, desc, content_box(grey), sharp, full_pixels, chroma)


def _chroma(rgb: np.ndarray) -> np.ndarray:
    """(R - G, B - G) / 2 averaged per CHROMA_CELL cell, int8."""
    h, w = rgb.shape[:2]
    ch, cw, _ = _chroma_shape(h, w)
    a = rgb.astype(np.int16)
    d = np.stack([a[..., 0] - a[..., 1], a[..., 2] - a[..., 1]], -1).astype(np.float32) / 2
    cells = cv2.resize(d, (cw, ch), interpolation=cv2.INTER_AREA)
    return np.clip(np.rint(cells), -127, 127).astype(np.int8)


def compute(path: str) -> Features | None:
    """Decode ``path`` small and compute its features; None when it cannot be read."""
    try:
        decoded = imaging.decode(imaging.read_bytes(path), need=SIDE, name=path)
    except (imaging.ImageError, OSError):
        return None
    arr = np.asarray(decoded.image.convert("RGB"))
    return from_image(arr, (decoded.width or 0) * (decoded.height or 0))


def compute_many(jobs: Iterable[tuple[K, str]], workers: int = 2,
                 progress: Callable[[int], None] | None = None) -> dict[K, Features | None]:
    """{key: features} for (key, path) jobs, decoded in a small thread pool (Pillow's
    decoder and OpenCV release the GIL)."""
    jobs = list(jobs)
    out: dict[K, Features | None] = {}
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for i, (key, feats) in enumerate(zip((k for k, _ in jobs),
                                             pool.map(lambda j: compute(j[1]), jobs))):
            out[key] = feats
            if progress:
                progress(i + 1)
    return out
