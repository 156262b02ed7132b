"""The second stage of the strict check, for candidate pairs the signature check could not
line up (a copy turned by an odd angle, a crop that is also rotated): local features.

Both files are decoded at a small size (orientation applied), ORB keypoints are matched,
a similarity transform (any angle, scale, shift) is fitted with RANSAC, and the pictures are
compared pixel by pixel where they overlap after warping. An edited copy lines up almost
perfectly; another shot of the same scene (burst, other viewpoint, other exposure) does
not: parallax, moving subjects and changed light leave the overlap disagreeing.
"""

from __future__ import annotations

import logging

import numpy as np

from photofinder.pixels import imaging

log = logging.getLogger(__name__)
SIDE = 256
MIN_INLIERS = 12
MIN_OVERLAP = 0.35


def load_grey(path: str) -> np.ndarray | None:
    try:
        decoded = imaging.decode(imaging.read_bytes(path), need=SIDE)
    except imaging.ImageError:
        return None
    img = decoded.image.convert("L")
    img.thumbnail((SIDE, SIDE))
    return np.asarray(img, dtype=np.float64) / 255.0


def _features(img: np.ndarray):
    from skimage.feature import ORB

    orb = ORB(n_keypoints=400, fast_threshold=0.04)
    orb.detect_and_extract(img)
    return orb.keypoints, orb.descriptors


def aligned_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Pixel agreement (NCC over the overlap, 0 when they cannot be lined up) of B warped
    onto A by a similarity transform estimated from matched keypoints."""
    from skimage.feature import match_descriptors
    from skimage.measure import ransac
    from skimage.transform import SimilarityTransform, warp

    try:
        ka, da = _features(a)
        kb, db = _features(b)
    except RuntimeError:  # too few keypoints (flat picture)
        return 0.0
    if len(ka) < MIN_INLIERS or len(kb) < MIN_INLIERS:
        return 0.0
    matches = match_descriptors(da, db, cross_check=True, max_ratio=0.85)
    if len(matches) < MIN_INLIERS:
        return 0.0
    src = kb[matches[:, 1]][:, ::-1]  # (x, y) in B
    dst = ka[matches[:, 0]][:, ::-1]  # (x, y) in A
    rng = np.random.default_rng(0)
    model, inliers = ransac((src, dst), SimilarityTransform, min_samples=3,
                            residual_threshold=2.0, max_trials=400, rng=rng)
    if model is None or inliers is None or inliers.sum() < MIN_INLIERS:
        return 0.0
    warped = warp(b, model.inverse, output_shape=a.shape, cval=-1.0, order=1)
    mask = warped >= 0
    mask[:2], mask[-2:], mask[:, :2], mask[:, -2:] = False, False, False, False
    if mask.mean() < MIN_OVERLAP:
        return 0.0
    x, y = a[mask], warped[mask]
    x, y = x - x.mean(), y - y.mean()
    d = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / d) if d > 1e-9 else 0.0


def files_agreement(path_a: str, path_b: str) -> float:
    a, b = load_grey(path_a), load_grey(path_b)
    if a is None or b is None:
        return 0.0
    return aligned_agreement(a, b)
