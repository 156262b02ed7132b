"""The strict check of one candidate pair, on cached features (features.py): is B a copy of
A (the same exposure, edited), another shot of the same scene (a burst frame, another view),
or unrelated?

1. A quick look: the 100 strongest keypoints of one side matched against the other's, and
   one cheap fit through them (both ways round); unrelated pictures stop here.
   Then all ORB descriptors are matched (Hamming, ratio test) and one similarity transform
   (any angle, scale and shift: crops, borders, rotations, resizes) is fitted with RANSAC
   (OpenCV). A mirrored copy is tried mirrored when the pixel signatures say it is one (its
   mirrored keypoints are computed once per photo and run).
2. B is warped onto A and the two are compared where both show picture (borders left out),
   tile by tile, after a slight blur (resampling and JPEG noise are not differences):
   - a copy agrees everywhere: every textured tile correlates, and its content sits where
     the transform says: 9 in 10 tiles within 0.75 px, half within 0.35 px (when one side
     is enlarged: more residual allowed, and 9 in 10 tiles must correlate at 0.9);
   - another exposure has regions that disagree: parallax, a moving subject, fresh noise
     on fine texture. Those tiles either lose their correlation or are shifted.
3. The verdict: ``COPY`` (score = agreement), ``SIMILAR`` (lined up, or near in the CNN
   space, but some regions disagree) or ``None``. A SIMILAR on weak evidence (not lined up,
   agreeing everywhere but not quite in place, or a few tiles more than a copy may have) is
   ``tentative``: the finder then still checks other pairs of the two groups.

Everything here costs a few milliseconds per pair; nothing reads a file.
"""

from __future__ import annotations

import math
import struct
import threading
from dataclasses import dataclass, field

import cv2
import numpy as np

from photofinder.dedup.features import SIDE, Features, keypoints

COPY, SIMILAR = "copy", "similar"
MIN_INLIERS = 10
# the quick look: B's strongest keypoints against all of A's, and one cheap fit through the
# matches; unrelated pictures rarely have this many matches that agree on one transform
# (benchmarks/duplicates_quality.py, both ways round: 8 in 10 unrelated look-alikes stop
# here, 96 in 100 copy pairs go on; the copies stopped join their group through others)
QUICK_B, QUICK_INLIERS = 100, 6
MIN_OVERLAP = 0.3  # of the smaller picture's content
TILE = 20  # px of A's grey picture
TEXTURED = 6.0  # tile std (grey levels) below which a tile says nothing
BAD_TILE_NCC = 0.6
BAD_TILE_SHIFT = 1.6  # px
# a copy is the same exposure: after lining up, its content sits still everywhere (9 in 10
# tiles within this many px). Another exposure of a static scene (a tripod, a small pan of a
# far landscape) lines up almost as well, but perspective and parallax leave a residual
# field: benchmarks/duplicates_quality.py measured copies' 90th percentile at 0.46 px
# (median; 95% <= 0.79) and other views' at 0.98 (5% <= 0.77).
SHIFT_P90 = 0.75
ENLARGED_TILE_NCC = 0.9  # 9 in 10 tiles correlate this well when one side is enlarged
SAME_SIZE_P50 = 0.35  # at about the same size, half the tiles sit this still (99 in 100 copies)
_ERODE = np.ones((9, 9), np.uint8)  # where both show picture, less a margin
_WINDOW = np.outer(np.hanning(TILE), np.hanning(TILE))  # each tile's, for phase correlation
FIT_ERROR = 0.006  # the most scale/turn error of a global fit taken out of the tile shifts


@dataclass
class Verdict:
    kind: str | None  # COPY, SIMILAR or None
    score: float  # agreement in [0, 1]
    why: str
    matrix: np.ndarray | None = None  # 2x3: B's grey pixels -> A's grey pixels (mirror first)
    mirrored: bool = False
    stats: dict = field(default_factory=dict)
    # SIMILAR on weak evidence (not lined up, in place but for a hair, or a few bad tiles
    # more than a copy may have): other pairs of the two pictures' groups may still be copies
    tentative: bool = False


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


def _percentile(x: np.ndarray, q: float, ordered: bool = False) -> float:
    """np.percentile(x, q) (linear between the closest ranks) of one pair's few values,
    without its overhead; ``ordered``: x is sorted already."""
    s = x if ordered else np.sort(x, axis=None)
    pos = q / 100 * (len(s) - 1)
    lo = int(pos)
    a, b, t = float(s[lo]), float(s[min(lo + 1, len(s) - 1)]), pos - lo
    return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t


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


class _Scratch(threading.local):
    """Each worker thread's arrays for ``compare``, made once and used as views: a pair then
    allocates (and page-faults) no picture-sized memory of its own (glibc hands large
    blocks back to the system when freed: 200 page faults a pair, 7% of its time)."""

    def __init__(self):
        self.bufs: dict[str, np.ndarray] = {}

    def get(self, name: str, h: int, w: int, dtype) -> np.ndarray:
        """(h, w) of ``dtype``; ``name``'s contents last until it is asked for again."""
        buf = self.bufs.get(name)
        if buf is None or buf.shape[0] < h or buf.shape[1] < w:
            side = max(h, w, SIDE + 1)  # + 1: the integral tables
            buf = self.bufs[name] = np.empty((side, side), dtype)
        return buf[:h, :w]

    def tiles(self, name: str, n: int, dtype, spectrum: bool = False) -> np.ndarray:
        """(n, TILE, TILE), or (n, TILE, TILE // 2 + 1) for a ``spectrum``."""
        buf = self.bufs.get(name)
        if buf is None or len(buf) < n:
            cols = TILE // 2 + 1 if spectrum else TILE
            buf = self.bufs[name] = np.empty((max(n, (SIDE // TILE) ** 2), TILE, cols), dtype)
        return buf[:n]


_scratch = _Scratch()


def _box_mask(shape, box, M=None, src_shape=None, dst=None) -> np.ndarray:
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


def compare(fa: Features, grey_b: np.ndarray, box_b, M: np.ndarray,
            enough_bad: float | None = None) -> dict:
    """Tile-by-tile agreement of B warped onto A. ``enough_bad``: when more than this share
    of the tiles already fails to correlate, the shifts are not measured (another shot
    whatever they are): ``bad`` is then that share, a lower bound, and ``early`` is set."""
    h, w = fa.grey.shape
    buf = _scratch.get
    warped = cv2.warpAffine(grey_b, M, (w, h), dst=buf("warped", h, w, np.uint8),
                            flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    mask = cv2.bitwise_and(_box_mask((h, w), box_b, M, grey_b.shape, buf("box_b", h, w, np.uint8)),
                           _box_mask((h, w), fa.box, dst=buf("box_a", h, w, np.uint8)),
                           dst=buf("both", h, w, np.uint8))
    mask = cv2.erode(mask, _ERODE, dst=buf("mask", h, w, np.uint8))
    n_both = cv2.countNonZero(mask)
    smaller = min(fa.content, _area(box_b) * abs(_det(M)))
    overlap = n_both / max(smaller, 1.0)
    if n_both < 400:
        return {"overlap": overlap, "ncc": 0.0, "tiles": 0, "bad": 1.0}
    # every sum below by OpenCV on whole pictures (exact, in doubles, without the GIL): the
    # overall correlation where both show picture, then each tile's from integral images
    a = _blur(fa.grey, buf("a", h, w, np.uint8))
    b = _blur(warped, buf("b", h, w, np.uint8))
    ab = np.multiply(a, b, out=buf("ab", h, w, np.uint16), dtype=np.uint16)  # 255 * 255 fits
    (ma,), (sda,) = (v.ravel().tolist() for v in cv2.meanStdDev(a, mask=mask))
    (mb,), (sdb,) = (v.ravel().tolist() for v in cv2.meanStdDev(b, mask=mask))
    cov = cv2.mean(ab, mask=mask)[0] - ma * mb
    ncc = cov / (sda * sdb) if sda * sdb > 1e-6 else 0.0
    th, tw = h // TILE, w // TILE
    n = TILE * TILE

    def per_tile(table: np.ndarray) -> np.ndarray:
        g = table[:th * TILE + 1:TILE, :tw * TILE + 1:TILE]
        return (g[1:, 1:] - g[:-1, 1:] - g[1:, :-1] + g[:-1, :-1]).ravel()

    def integral(x: np.ndarray, name: str, depth=np.float64) -> np.ndarray:
        return per_tile(cv2.integral(x, buf(name, h + 1, w + 1, depth),
                                     sdepth=cv2.CV_64F if depth == np.float64 else cv2.CV_32S))

    def squares(x: np.ndarray) -> np.ndarray:
        return integral(np.multiply(x, x, out=buf("sq", h, w, np.uint16), dtype=np.uint16), "sq_t")
    sum_a, sq_a = integral(a, "sum_t"), squares(a)
    sum_b, sq_b = integral(b, "sum_t"), squares(b)
    inside = integral(mask, "mask_t", np.int32)
    va, vb = sq_a - sum_a * sum_a / n, sq_b - sum_b * sum_b / n  # n * variance
    use = ((inside >= 0.95 * n * 255)
           & (np.minimum(va, vb) >= TEXTURED * TEXTURED * n)).nonzero()[0]
    nt = len(use)
    if nt == 0:
        return {"overlap": overlap, "ncc": ncc, "tiles": 0, "bad": 0.0, "bad_tiles": 0, "shift": 0.0}
    sum_a, sum_b, va, vb = sum_a[use], sum_b[use], va[use], vb[use]
    c = ((integral(ab, "sum_t")[use] - sum_a * sum_b / n)
         / np.maximum(np.sqrt(va * vb), 1e-6))
    uncorrelated = int((c < BAD_TILE_NCC).sum())
    if enough_bad is not None and uncorrelated > enough_bad * nt:
        return {"overlap": overlap, "ncc": ncc, "tiles": nt, "bad": uncorrelated / nt,
                "bad_tiles": uncorrelated, "shift": 0.0, "early": True,
                "tile_ncc_p10": _percentile(c, 10)}
    ys, xs = np.divmod(use, tw)

    def tiles(x: np.ndarray, sums: np.ndarray, name: str) -> np.ndarray:
        """The used tiles, each less its mean, windowed: (nt, TILE, TILE) float64 (numpy's
        float32 FFT is slower and allocates afresh on every call)."""
        t = x[:th * TILE, :tw * TILE].reshape(th, TILE, tw, TILE)[ys, :, xs, :]
        z = np.subtract(t, (sums / n)[:, None, None], out=_scratch.tiles(name, nt, np.float64))
        return np.multiply(z, _WINDOW, out=z)
    # residual shift of each tile (phase correlation, whole pixels): a copy sits still
    # (in each thread's own arrays, in place: these are the pair's largest)
    fa = np.fft.rfft2(tiles(a, sum_a, "za"), out=_scratch.tiles("fa", nt, np.complex128, True))
    fb = np.fft.rfft2(tiles(b, sum_b, "zb"), out=_scratch.tiles("fb", nt, np.complex128, True))
    cross = np.multiply(fa, np.conjugate(fb, out=fb), out=fa)
    mag = np.abs(cross, out=_scratch.tiles("mag", nt, np.float64, True))
    cross = np.divide(cross, np.maximum(mag, 1e-6, out=mag), out=cross)
    r = np.fft.irfft2(cross, s=(TILE, TILE), out=_scratch.tiles("r", nt, np.float64))
    flat = r.reshape(len(r), -1)
    peak = flat.argmax(axis=1)
    dy, dx = np.divmod(peak, TILE)
    k = np.arange(len(r))

    def sub(c0, cm, cp):  # parabolic peak offset in (-0.5, 0.5)
        d = cm - 2 * c0 + cp
        return np.where(np.abs(d) > 1e-6, 0.5 * (cm - cp) / np.where(d == 0, 1, d), 0.0)
    c0 = r[k, dy, dx]
    oy = sub(c0, r[k, (dy - 1) % TILE, dx], r[k, (dy + 1) % TILE, dx])
    ox = sub(c0, r[k, dy, (dx - 1) % TILE], r[k, dy, (dx + 1) % TILE])
    dy = np.where(dy > TILE // 2, dy - TILE, dy) + np.clip(oy, -0.5, 0.5)
    dx = np.where(dx > TILE // 2, dx - TILE, dx) + np.clip(ox, -0.5, 0.5)
    confident = flat.max(axis=1) > 0.3
    # what a slightly wrong global fit leaves (a smooth similarity field) is not a difference
    dx, dy = _minus_similarity(xs * TILE + TILE / 2, ys * TILE + TILE / 2, dx, dy,
                               confident & (c >= BAD_TILE_NCC))
    shift = np.hypot(dx, dy)
    bad_mask = (c < BAD_TILE_NCC) | (confident & (shift > BAD_TILE_SHIFT))
    bad = int(bad_mask.sum())
    worst_shift = float(shift[confident].max()) if confident.any() else 0.0
    still = np.sort(shift[confident & ~bad_mask])
    return {"overlap": overlap, "ncc": ncc, "tiles": nt, "bad": bad / max(nt, 1),
            "bad_tiles": bad, "shift": worst_shift,
            "shift_p50": _percentile(still, 50, True) if len(still) else 0.0,
            "shift_p90": _percentile(still, 90, True) if len(still) else 0.0,
            "tile_ncc_p10": _percentile(c, 10)}


def _blur(grey: np.ndarray, dst: np.ndarray | None = None) -> np.ndarray:
    """Resampling and JPEG noise are not differences (uint8: the sums above are exact).
    (7, 7) is the size OpenCV takes for sigma 1 on 8 bits; named, it takes a faster path."""
    return cv2.GaussianBlur(grey, (7, 7), 1.0, dst=dst)


def _minus_similarity(x, y, dx, dy, ok, rounds: int = 2):
    """Tile shifts less the best small similarity (scale, turn, shift) through them, fitted
    by least squares on the ``ok`` tiles, then again without the outliers. (The least
    squares similarity in closed form: about the centroid, its scale/turn and its shift
    part separate.)"""
    x, y = x.astype(np.float64), y.astype(np.float64)
    use = ok
    for _ in range(rounds):
        if use.sum() < 6:
            return dx, dy
        xu, yu, ux, uy = x[use], y[use], dx[use], dy[use]
        mx, my, mux, muy = xu.mean(), yu.mean(), ux.mean(), uy.mean()
        xu, yu, ux, uy = xu - mx, yu - my, ux - mux, uy - muy
        spread = float(xu @ xu + yu @ yu)
        a = float(xu @ ux + yu @ uy) / spread if spread > 1e-9 else 0.0
        b = float(xu @ uy - yu @ ux) / spread if spread > 1e-9 else 0.0
        tx, ty = float(mux - a * mx + b * my), float(muy - b * mx - a * my)
        # only what a fit's error can be: a fraction of a percent, a pixel; a new exposure's
        # camera motion is more, and is not taken out
        a, b = min(max(a, -FIT_ERROR), FIT_ERROR), min(max(b, -FIT_ERROR), FIT_ERROR)
        tx, ty = min(max(tx, -1.0), 1.0), min(max(ty, -1.0), 1.0)
        rx, ry = dx - (a * x - b * y + tx), dy - (b * x + a * y + ty)
        use = ok & (np.hypot(rx, ry) < BAD_TILE_SHIFT)
    return rx, ry


def _area(box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def verify(fa: Features, fb: Features, pixels: float, max_bad: float, cosine: float | None = None,
           similar_cosine: float = 0.9, mirrored_hint: bool = False) -> Verdict:
    """The verdict on B against A (see the module docstring). ``pixels``: the least overall
    agreement of a copy; ``max_bad``: the largest share of disagreeing tiles a copy may have."""
    first = _verify(fa, fb, pixels, max_bad, cosine, similar_cosine, mirrored_hint, False)
    if first.kind == COPY or not _aspect_changed(fa, fb, first):
        return first  # an affine fit only rescues a squashed copy: its aspect ratio changed
    second = _verify(fa, fb, pixels, max_bad, cosine, similar_cosine, mirrored_hint, True)
    if second.kind == COPY and _squashed(second.matrix):
        return second  # the aspect ratio changed: a squashed copy, which no similarity fits
    return first


def _aspect_changed(fa: Features, fb: Features, v: Verdict) -> bool:
    def ratio(box):
        return max(box[2] - box[0], 1.0) / max(box[3] - box[1], 1.0)
    ra, rb = ratio(fa.box), ratio(fb.box)
    if v.matrix is None:  # not lined up: maybe turned a quarter
        return min(abs(np.log(ra / rb)), abs(np.log(ra * rb))) > 0.03
    if 45 <= abs(v.stats.get("angle", 0.0)) % 180 <= 135:
        rb = 1.0 / rb  # turned a quarter
    return abs(np.log(ra / rb)) > 0.03


def _squashed(M: np.ndarray) -> bool:
    big, small = _singular_values(M)
    return bool(big / max(small, 1e-9) > 1.04)


def _verify(fa, fb, pixels, max_bad, cosine, similar_cosine, mirrored_hint, full) -> Verdict:
    M, n, mirrored, grey_b = align(fa, fb, mirrored_hint, full)
    near = cosine is not None and cosine >= similar_cosine
    if M is None:
        return Verdict(SIMILAR if near else None, 0.0,
                       f"looks alike {cosine:.2f}, does not line up" if near else "", stats={"inliers": n},
                       tentative=True)
    box_b = fb.box
    if mirrored:
        w = fb.grey.shape[1]
        box_b = (w - fb.box[2], fb.box[1], w - fb.box[0], fb.box[3])
    scale = math.sqrt(abs(_det(M)))
    if scale < 1.0:
        # B shows the picture at the higher resolution: compare in its frame, so the
        # tiles see as much detail as there is (a small copy hides nothing in a big grid)
        frame_b = Features(grey_b, fb.points[:0], fb.desc[:0], box_b, 0.0)
        st = compare(frame_b, fa.grey, fa.box, cv2.invertAffineTransform(M), 2 * max_bad)
    else:
        st = compare(fa, grey_b, box_b, M, 2 * max_bad)
    st["inliers"] = n
    angle = float(np.degrees(np.arctan2(M[1, 0], M[0, 0])))
    st.update(scale=scale, angle=angle)
    if st["overlap"] < MIN_OVERLAP:
        return Verdict(SIMILAR if near else None, 0.0, "too little of it lines up", M, mirrored, st)
    score = max(0.0, min(1.0, st["ncc"]))
    how = _describe(angle, mirrored, st["overlap"])
    # the coarser picture is enlarged ``up`` times: its content is placed less sharply, so
    # more residual is allowed, and 9 in 10 tiles must correlate well (few pixels say less)
    up = max(scale, 1.0 / max(scale, 1e-6))
    p90 = st.get("shift_p90", 0.0)
    still = p90 <= SHIFT_P90 * np.sqrt(up) and (
        st.get("tile_ncc_p10", 1.0) >= ENLARGED_TILE_NCC if up >= 1.25
        else st.get("shift_p50", 0.0) <= SAME_SIZE_P50)
    if score >= pixels and st["bad"] <= max_bad and still:
        return Verdict(COPY, score, f"pixels agree {score:.2f} after lining up{how}", M, mirrored, st)
    if score >= pixels and st["bad"] <= max_bad:
        # agrees everywhere, not quite in place: maybe a copy whose fit is a little off
        return Verdict(SIMILAR, score, f"another shot: the picture has moved by "
                       f"{p90:.1f} px in places after lining up{how}", M, mirrored,
                       st, tentative=True)
    if st["ncc"] >= 0.5 or near or n >= 3 * MIN_INLIERS:  # lined up: the same scene
        # a few tiles more than a copy may have (a small copy's JPEG noise) is weak evidence
        return Verdict(SIMILAR, score, f"another shot: {'at least ' if st.get('early') else ''}"
                       f"{st['bad'] * 100:.0f}% of the picture disagrees after lining up{how}",
                       M, mirrored, st, tentative=st["bad"] <= 2 * max_bad)
    return Verdict(None, score, "", M, mirrored, st)


def _describe(angle: float, mirrored: bool, overlap: float) -> str:
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
_GEO = struct.Struct("<6f?6f")


@dataclass
class Geometry:
    """How B's picture maps onto A's (2x3, grey pixels of the cached features), and each
    side's picture content (border left out, in its own grey pixels), real pixels (at full
    size, border left out) and sharpness."""
    matrix: np.ndarray
    mirrored: bool
    content_a: float
    content_b: float
    real_a: float
    real_b: float
    sharp_a: float
    sharp_b: float

    @property
    def scale(self) -> float:
        """B's grey pixels -> A's grey pixels (linear)."""
        return math.sqrt(abs(_det(self.matrix)))

    def to_blob(self) -> bytes:
        return _GEO.pack(*np.asarray(self.matrix, np.float32).ravel().tolist(), self.mirrored,
                         self.content_a, self.content_b, self.real_a, self.real_b,
                         self.sharp_a, self.sharp_b)

    @classmethod
    def from_blob(cls, blob: bytes | None) -> "Geometry | None":
        if not blob or len(blob) != _GEO.size:
            return None
        v = _GEO.unpack(blob)
        return cls(np.array(v[:6], np.float32).reshape(2, 3), v[6], *v[7:])


def real_pixels(f: Features) -> float:
    """Pixels of the file without its border."""
    h, w = f.grey.shape
    return f.full_pixels * f.content / max(w * h, 1)


def geometry(fa: Features, fb: Features, v: Verdict) -> Geometry | None:
    if v.matrix is None:
        return None
    return Geometry(v.matrix, v.mirrored, fa.content, fb.content, real_pixels(fa),
                    real_pixels(fb), fa.sharpness, fb.sharpness)
