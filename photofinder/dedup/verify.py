"""Lining a candidate pair up, on cached features (features.py): the transform that maps B's
grey picture onto A's, for the verdict (verdict.py) and for anyone who needs a geometric
check of two pictures (retrieval may use ``align`` for spatial verification).

- ``align``: a quick look first (the 100 strongest keypoints of one side matched against
  the other's, one cheap fit through them, both ways round: unrelated pictures stop here),
  then all ORB descriptors matched (Hamming, ratio test) and one similarity transform (any
  angle, scale and shift: crops, borders, rotations, resizes; ``full``: any affine map, for a
  squashed copy) fitted with RANSAC (OpenCV). A mirrored copy is tried mirrored when hinted
  (its mirrored keypoints are computed once per photo and run).
- ``align_whole``: the whole pictures lined up small (OpenCV's ECC) from one content box laid
  on the other, for pairs the keypoints cannot line up (flat pictures, heavy noise).
- ``Geometry``: what the keeper rules need from a checked pair, stored with its verdict.
Everything here costs a few milliseconds per pair; nothing reads a file.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any, cast

import cv2
import numpy as np

from photofinder.dedup.features import Features, keypoints

MIN_INLIERS = 10
# the quick look: B's strongest keypoints against all of A's, and one cheap fit through the
# matches; unrelated pictures rarely have this many matches that agree on one transform
# (benchmarks/duplicates_quality.py, both ways round: 8 in 10 unrelated look-alikes stop
# here, 96 in 100 copy pairs go on; the copies stopped join their group through others)
QUICK_B, QUICK_INLIERS = 100, 6


def _good(db: np.ndarray, da: np.ndarray) -> np.ndarray:
    """Matches of B's descriptors in A's that pass the ratio test: (n, 2) index pairs
    (B's, A's). Two nearest by Hamming distance, as arrays (no per-match objects)."""
    if len(db) == 0 or len(da) < 2:
        return np.empty((0, 2), np.int64)
    dist, idx = cv2.batchDistance(db, da, cv2.CV_32S, normType=cv2.NORM_HAMMING, K=2)
    ok = (dist[:, 0] < 0.85 * dist[:, 1]) & (dist[:, 0] <= 64)
    q = np.nonzero(ok)[0]
    return np.stack([q, idx[q, 0]], axis=1)


def _pairs(good: np.ndarray, pb: np.ndarray, pa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (np.ascontiguousarray(pb[good[:, 0]], np.float32),
            np.ascontiguousarray(pa[good[:, 1]], np.float32))


def _quick_look(fa: Features, pb: np.ndarray, db: np.ndarray, full: bool = False
                ) -> tuple[bool, np.ndarray | None]:
    """Do B's strongest keypoints find enough matches in A that one transform explains, or
    A's in B? (Both ways: the strongest of a whole picture may lie outside a crop of it.)
    Returns (go on, the matches of B's strongest in A, which the full match reuses)."""
    if len(db) <= QUICK_B or len(fa.desc) <= QUICK_B:
        return True, None  # a small picture: the whole check costs no more
    first = None
    for (p1, d1), (p2, d2) in (((pb, db), (fa.points, fa.desc)), ((fa.points, fa.desc), (pb, db))):
        good = _good(d1[:QUICK_B], d2)
        if first is None:
            first = good
        if len(good) < QUICK_INLIERS:
            continue
        src, dst = _pairs(good, p1, p2)
        fit = cv2.estimateAffine2D if full else cv2.estimateAffinePartial2D
        M, inl = fit(src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0, maxIters=500,
                     confidence=0.99)
        if M is not None and inl is not None and int(inl.sum()) >= QUICK_INLIERS:
            return True, first
    return False, None


def _match(fa: Features, pb: np.ndarray, db: np.ndarray, full: bool = False):
    if len(fa.desc) < MIN_INLIERS or len(db) < MIN_INLIERS:
        return None, 0
    go, strongest = _quick_look(fa, pb, db, full)
    if not go:  # unrelated pictures stop here
        return None, 0
    if strongest is None:
        good = _good(db, fa.desc)
    else:  # B's strongest were matched already: the rest, and the two together
        rest = _good(db[QUICK_B:], fa.desc)
        rest[:, 0] += QUICK_B
        good = np.concatenate([strongest, rest])
    if len(good) < MIN_INLIERS:
        return None, len(good)
    src, dst = _pairs(good, pb, fa.points)
    fit = cv2.estimateAffine2D if full else cv2.estimateAffinePartial2D
    method = cv2.USAC_MAGSAC if full else cv2.RANSAC
    M, inl = fit(src, dst, method=method, ransacReprojThreshold=3.0, maxIters=2000,
                 confidence=0.995)
    if M is not None and not _plausible(M):
        return None, 0
    if M is None or inl is None:
        return None, 0
    n = int(inl.sum())
    return (M if n >= MIN_INLIERS else None), n


def inliers(fa: Features, points: np.ndarray, desc: np.ndarray) -> int:
    """How many of B's keypoints (``points``, ``desc``: ORB, as ``features.keypoints`` makes
    them) agree with A's under one affine map (RANSAC), 0 when the quick look finds none:
    the geometric agreement Find similar re-ranks by (retrieval/rerank.py). Public for it."""
    return _match(fa, points, desc, full=True)[1]


def _plausible(M: np.ndarray) -> bool:
    """A resize may change the aspect ratio, but no copy is sheared or mirrored by it."""
    big, small = _singular_values(M)
    return bool(_det(M) > 0 and small > 1e-3 and big / small < 2.5)


# 2x2 closed forms: numpy.linalg's calls cost more than the arithmetic, holding the GIL
def _det(M: np.ndarray) -> float:
    """det of M's 2x2 part."""
    (a, b), (c, d) = M[0, :2].tolist(), M[1, :2].tolist()
    return a * d - b * c


def _singular_values(M: np.ndarray) -> tuple[float, float]:
    """The singular values of M's 2x2 part, larger first."""
    (a, b), (c, d) = M[0, :2].tolist(), M[1, :2].tolist()
    p, q = math.hypot(a + d, c - b), math.hypot(a - d, c + b)
    return (p + q) / 2, abs(p - q) / 2


def _mirror(fb: Features) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """B mirrored, with its own keypoints (ORB is not mirror-invariant); computed once per
    photo and run, as one photo is in many pairs."""
    if fb.mirrored is None:
        grey = np.ascontiguousarray(fb.grey[:, ::-1])
        fb.mirrored = (grey, *keypoints(grey))
    return fb.mirrored


def align(fa: Features, fb: Features, mirrored_hint: bool = False, full: bool = False):
    """(matrix, inliers, mirrored, B's grey used). ``full``: any affine map (a resize that
    changed the aspect ratio) instead of a similarity (angle, one scale, shift)."""
    tries = [True, False] if mirrored_hint else [False]  # a mirror only when hinted
    best = (None, 0, False, fb.grey)
    for mirrored in tries:
        if mirrored:
            grey, pts, desc = _mirror(fb)
        else:
            grey, pts, desc = fb.grey, fb.points, fb.desc
        M, n = _match(fa, pts, desc, full)
        if M is not None and n > best[1]:
            best = (M, n, mirrored, grey)
            if n >= 3 * MIN_INLIERS:
                break
    return best


def _box_mask(shape, box, M=None, src_shape: tuple[int, int] | Any = None, dst=None
              ) -> np.ndarray:
    h, w = shape
    x0, y0, x1, y1 = box
    if M is None:
        m = np.empty((h, w), np.uint8) if dst is None else dst
        m[...] = 0
        m[int(np.ceil(y0)):int(y1), int(np.ceil(x0)):int(x1)] = 255
        return m
    sh, sw = src_shape
    src = np.zeros((sh, sw), np.uint8)
    src[int(np.ceil(y0)):int(y1), int(np.ceil(x0)):int(x1)] = 255
    return cv2.warpAffine(src, M, (w, h), dst=dst, flags=cv2.INTER_NEAREST, borderValue=0)


def _area(box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _squashed(M: np.ndarray) -> bool:
    big, small = _singular_values(M)
    return bool(big / max(small, 1e-9) > 1.04)


def _describe(angle: float, mirrored: bool) -> str:
    bits = []
    a = round(angle) % 360
    if a in (90, 180, 270):
        bits.append(f"turned {a}°")
    elif min(a, 360 - a) >= 1:
        bits.append(f"turned {angle:.0f}°")
    if mirrored:
        bits.append("mirrored")
    return (" (" + ", ".join(bits) + ")") if bits else ""


# -- what the keeper rules need from a checked pair, stored with its verdict ------------------
_GEO = struct.Struct("<6f?6fBff")
EDITS = ["", "tone", "colour", "black and white"]  # verdict.look_edit's words, stored by index


@dataclass
class Geometry:
    """How B's picture maps onto A's (2x3, grey pixels of the cached features), each side's
    picture content (border left out, in its own grey pixels), real pixels (at full size,
    border left out) and sharpness; what a copy changed in the look (``edit``, a deliberate
    edit) and each side's damage as the pair showed it (0: none; noise or blur the other
    side has not, as a share of its detail)."""
    matrix: np.ndarray
    mirrored: bool
    content_a: float
    content_b: float
    real_a: float
    real_b: float
    sharp_a: float
    sharp_b: float
    edit: str = ""
    damage_a: float = 0.0
    damage_b: float = 0.0

    @property
    def scale(self) -> float:
        """B's grey pixels -> A's grey pixels (linear)."""
        return math.sqrt(abs(_det(self.matrix)))

    def to_blob(self) -> bytes:
        return _GEO.pack(*np.asarray(self.matrix, np.float32).ravel().tolist(), self.mirrored,
                         self.content_a, self.content_b, self.real_a, self.real_b,
                         self.sharp_a, self.sharp_b, EDITS.index(self.edit or ""),
                         self.damage_a, self.damage_b)

    @classmethod
    def from_blob(cls, blob: bytes | None) -> "Geometry | None":
        if not blob or len(blob) != _GEO.size:
            return None
        v = _GEO.unpack(blob)
        edit = EDITS[v[13]] if v[13] < len(EDITS) else ""
        return cls(np.array(v[:6], np.float32).reshape(2, 3), v[6],
                   *cast(tuple[float, float, float, float, float, float], v[7:13]), edit, v[14],
                   v[15])


def real_pixels(f: Features) -> float:
    """Pixels of the file without its border."""
    h, w = f.grey.shape
    return f.full_pixels * f.content / max(w * h, 1)


def geometry(fa: Features, fb: Features, v) -> Geometry | None:
    """The geometry of a verdict (verdict.Verdict) on B against A; None if not lined up."""
    if v.matrix is None:
        return None
    damage = getattr(v, "damage", None) or (0.0, 0.0)
    return Geometry(v.matrix, v.mirrored, fa.content, fb.content, real_pixels(fa),
                    real_pixels(fb), fa.sharpness, fb.sharpness, getattr(v, "edit", None) or "",
                    *damage)


# -- public helpers of the verdict (verdict.py) -------------------------------------------------
det = _det
singular_values = _singular_values
area = _area
box_mask = _box_mask


describe = _describe


def aspect_changed(fa: Features, fb: Features, M, angle: float) -> bool:
    """Do the two pictures' content boxes differ in aspect ratio (a squashed copy)?"""
    def ratio(box):
        return max(box[2] - box[0], 1.0) / max(box[3] - box[1], 1.0)
    ra, rb = ratio(fa.box), ratio(fb.box)
    if M is None:  # not lined up: maybe turned a quarter
        return min(abs(np.log(ra / rb)), abs(np.log(ra * rb))) > 0.03
    if 45 <= abs(angle) % 180 <= 135:
        rb = 1.0 / rb  # turned a quarter
    return abs(np.log(ra / rb)) > 0.03


squashed = _squashed


# -- when the keypoints cannot line a pair up ---------------------------------------------------
FALLBACK_SIDE = 96  # px: the whole pictures are lined up this small
FALLBACK_ECC = 0.85  # the correlation a fallback alignment must reach
# the eight turns and mirrors of signature.DIHEDRAL as 2x2 maps of centred (x, y)
_TRANSPOSE = np.array([[0.0, 1.0], [1.0, 0.0]])
_FLIP_ROWS, _FLIP_COLS = np.diag([1.0, -1.0]), np.diag([-1.0, 1.0])


def _dihedral(g: int) -> np.ndarray:
    from photofinder.dedup.signature import DIHEDRAL

    t, fr, fc = DIHEDRAL[g]
    m = _TRANSPOSE if t else np.eye(2)
    if fr:
        m = _FLIP_ROWS @ m
    if fc:
        m = _FLIP_COLS @ m
    return m


def _box_to_box(box_b, box_a, lin: np.ndarray) -> np.ndarray:
    """2x3: B's content box, turned/mirrored by ``lin``, stretched onto A's content box."""
    cb = np.array([(box_b[0] + box_b[2]) / 2, (box_b[1] + box_b[3]) / 2])
    ca = np.array([(box_a[0] + box_a[2]) / 2, (box_a[1] + box_a[3]) / 2])
    size_b = np.abs(lin @ np.array([box_b[2] - box_b[0], box_b[3] - box_b[1]]))
    size_a = np.array([box_a[2] - box_a[0], box_a[3] - box_a[1]])
    A = np.diag(size_a / np.maximum(size_b, 1.0)) @ lin
    return np.hstack([A, (ca - A @ cb)[:, None]])


def align_whole(fa: Features, fb: Features, turns=(0,)) -> np.ndarray | None:
    """B's grey -> A's grey (2x3) by lining up the whole pictures, small and smoothed
    (OpenCV's ECC, which a tone change, noise or blur does not mislead), from B's content
    box laid on A's, turned as ``turns`` (dihedral indices) say: for pairs the keypoints
    cannot line up (flat or smooth pictures, heavy noise, tiny copies). A crop is not found
    this way. None when no start reaches FALLBACK_ECC."""
    def small(f):
        s = FALLBACK_SIDE / max(f.grey.shape)
        g = cv2.resize(f.grey, (max(8, round(f.grey.shape[1] * s)), max(8, round(f.grey.shape[0] * s))),
                       interpolation=cv2.INTER_AREA)
        return cv2.GaussianBlur(g, (0, 0), 1.0).astype(np.float32), s
    a, sa = small(fa)
    b, sb = small(fb)
    if min(a.shape) < 16 or min(b.shape) < 16 or a.std() < 2 or b.std() < 2:
        return None
    mask = np.zeros(a.shape, np.uint8)
    x0, y0, x1, y1 = (v * sa for v in fa.box)
    mask[int(np.ceil(y0)):int(y1), int(np.ceil(x0)):int(x1)] = 1
    best, best_cc = None, FALLBACK_ECC
    for g in dict.fromkeys(turns):
        M0 = _box_to_box([v * sb for v in fb.box], [v * sa for v in fa.box], _dihedral(g))
        warp = cv2.invertAffineTransform(M0).astype(np.float32)  # ECC warps A's px into B's
        try:
            cc, warp = cv2.findTransformECC(a, b, warp, cv2.MOTION_AFFINE,
                                            (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-4),
                                            mask, 3)
        except cv2.error:
            continue
        if cc > best_cc:
            M = cv2.invertAffineTransform(warp.astype(np.float64))
            # back to the features' grey pixels: B's grey -> small B -> small A -> A's grey
            M = np.vstack([M, [0, 0, 1]]) @ np.diag([sb, sb, 1.0])
            best, best_cc = (np.diag([1 / sa, 1 / sa, 1.0]) @ M)[:2], cc
    return best
