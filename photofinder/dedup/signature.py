"""Pixel signatures: a tiny greyscale picture of every photo, kept in the catalogue.

``compute`` runs at index time on the image the indexer has already decoded (orientation
applied) and costs well under a millisecond: the photo squashed to ``SIDE`` x ``SIDE`` grey
pixels (2.3 KB). Squashing to a square commutes with the eight rotations/flips (the dihedral
group D4), so a rotated or mirrored copy's signature is exactly the transformed signature.

What the signatures give the duplicate finder:
- ``dihedral_hashes``: 63-bit signs of the low-frequency DCT of each photo in all eight
  orientations, computed straight from one DCT (a flip changes the sign of odd
  coefficients, a quarter turn transposes them), so rotated/mirrored copies are found by
  hashing, without embedding eight variants per photo.
- ``agreement``: the strict pixel check on a candidate pair: normalised cross-correlation
  of the two signatures at the best alignment among the eight orientations and a search
  over crops (one picture a scaled window of the other: crops, added borders). Copies
  agree at 0.9+; other shots of the same scene (burst, another viewpoint) do not line up.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

SIDE = 48
HASH_SIDE = 32
HASH_FREQ = 8
MIN_CONTRAST = 6.0  # grey-level std below this: a blank picture, never a near duplicate
MIN_PIXELS_SIDE = 64  # smaller pictures (icons, text snippets) are never near duplicates
CROP_SCALES = np.geomspace(0.95, 0.6, 6)  # window side / picture side in the crop search

# D4 as (transpose, flip rows, flip columns) applied in that order to a square array.
DIHEDRAL = [(False, False, False), (True, False, True), (False, True, True), (True, True, False),
            (False, False, True), (False, True, False), (True, False, False), (True, True, True)]
NAMES = ["as is", "turned 90°", "turned 180°", "turned 270°", "mirrored left-right",
         "mirrored top-bottom", "mirrored on the diagonal", "mirrored on the anti-diagonal"]


def compute(img: Image.Image) -> bytes:
    """The signature of a decoded RGB picture (orientation applied)."""
    grey = img.convert("L")
    if max(grey.size) > 4 * SIDE:
        grey = grey.reduce(max(1, min(grey.size) // (2 * SIDE)))
    return grey.resize((SIDE, SIDE), Image.Resampling.BOX).tobytes()


def as_array(sig: bytes) -> np.ndarray:
    return np.frombuffer(sig, np.uint8).reshape(SIDE, SIDE).astype(np.float32)


def transform(a: np.ndarray, g: int) -> np.ndarray:
    t, fr, fc = DIHEDRAL[g]
    if t:
        a = a.T
    if fr:
        a = a[::-1]
    if fc:
        a = a[:, ::-1]
    return a


def swaps_sides(g: int) -> bool:
    return DIHEDRAL[g][0]


# -- hashing ------------------------------------------------------------------------------
def _dct_matrix(n: int, k: int) -> np.ndarray:
    x = np.arange(n)
    m = np.cos(np.pi * (2 * x[None, :] + 1) * np.arange(k)[:, None] / (2 * n))
    return m.astype(np.float32)


_D = _dct_matrix(HASH_SIDE, HASH_FREQ)
_ODD = (np.arange(HASH_FREQ) % 2 == 1)


def low_dct(sigs: np.ndarray) -> np.ndarray:
    """(n, SIDE*SIDE) uint8 signatures -> (n, 8, 8) low DCT coefficients [row freq, col freq]."""
    a = sigs.reshape(-1, SIDE, SIDE).astype(np.float32)
    f = SIDE // HASH_SIDE if SIDE % HASH_SIDE == 0 else None
    if f:
        a = a.reshape(-1, HASH_SIDE, f, HASH_SIDE, f).mean(axis=(2, 4))
    else:  # 48 -> 32: average 3x3 blocks into 2x2 by linear interpolation weights
        idx = np.linspace(0, SIDE - 1, HASH_SIDE)
        lo = np.floor(idx).astype(int)
        hi = np.minimum(lo + 1, SIDE - 1)
        w = (idx - lo).astype(np.float32)
        a = a[:, lo] * (1 - w)[None, :, None] + a[:, hi] * w[None, :, None]
        a = a[:, :, lo] * (1 - w)[None, None, :] + a[:, :, hi] * w[None, None, :]
    return np.einsum("ux,nxy,vy->nuv", _D, a, _D, optimize=True)


def _bits(c: np.ndarray) -> np.ndarray:
    """(n, 8, 8) coefficients -> (n,) uint64 sign hash (the DC term left out)."""
    flat = (c.reshape(len(c), -1)[:, 1:] > 0).astype(np.uint64)
    weights = (np.uint64(1) << np.arange(63, dtype=np.uint64))
    return (flat * weights).sum(axis=1, dtype=np.uint64)


def dihedral_hashes(sigs: np.ndarray) -> np.ndarray:
    """(n, SIDE*SIDE) signatures -> (n, 8) uint64 hashes, column g = the photo transformed by
    DIHEDRAL[g]. Column 0 is what a copy stored as is would hash to."""
    c = low_dct(sigs)
    out = np.empty((len(c), 8), np.uint64)
    for g, (t, fr, fc) in enumerate(DIHEDRAL):
        v = np.swapaxes(c, 1, 2) if t else c
        sign = np.ones((HASH_FREQ, HASH_FREQ), np.float32)
        if fr:
            sign[_ODD, :] *= -1
        if fc:
            sign[:, _ODD] *= -1
        out[:, g] = _bits(v * sign)
    return out


def popcount64(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.uint64)
    b = x.view(np.uint8).reshape(*x.shape, 8)
    return np.unpackbits(b, axis=-1).sum(axis=-1)


# -- the strict pixel check ------------------------------------------------------------------
def contrast(sig: bytes) -> float:
    return float(as_array(sig).std())


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    d = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / d) if d > 1e-6 else 0.0


def _resize(a: np.ndarray, w: int, h: int) -> np.ndarray:
    return np.asarray(Image.fromarray(a).resize((w, h), Image.Resampling.BILINEAR))


def _best_window(big: np.ndarray, small_full: np.ndarray, ratio: float) -> float:
    """``small_full`` is a crop of ``big``, scaled: try windows whose width/height fractions
    of ``big`` keep the crop's shape (``ratio`` = width fraction / height fraction)."""
    from skimage.feature import match_template

    best = -1.0
    for t in CROP_SCALES:
        fh = t if ratio <= 1 else t / ratio
        fw = fh * ratio
        if fw < CROP_SCALES[-1] or fh < CROP_SCALES[-1]:
            continue
        w, h = round(SIDE * fw), round(SIDE * fh)
        if w >= SIDE - 1 and h >= SIDE - 1:
            continue  # the whole picture: the plain comparison covers it
        tmpl = _resize(small_full, w, h)
        if tmpl.std() < MIN_CONTRAST:
            continue
        best = max(best, float(match_template(big, tmpl).max()))
    return best


def agreement(sig_a: bytes, size_a: tuple[int, int], sig_b: bytes, size_b: tuple[int, int],
              enough: float = 1.0, crops: bool = True) -> tuple[float, int]:
    """(pixel agreement in [-1, 1], the orientation g that lines B up with A).

    B is compared in all eight orientations as a whole (resized, even squashed, copies); when
    that is not ``enough``, B is also tried as a crop of A and A as a crop of B (as is and
    mirrored: crop search over window sizes and positions). ``size_*`` are the displayed
    (width, height) of the photos."""
    a, b0 = as_array(sig_a), as_array(sig_b)
    if a.std() < MIN_CONTRAST or b0.std() < MIN_CONTRAST:
        return 0.0, 0
    scores = [_ncc(a, transform(b0, g)) for g in range(8)]
    best_g = int(np.argmax(scores))
    best = scores[best_g]
    if best >= enough or not crops:
        return best, best_g
    ra = size_a[0] / max(size_a[1], 1)
    rb = size_b[0] / max(size_b[1], 1)
    for g in (0, 4):
        b = np.ascontiguousarray(transform(b0, g))
        s = max(_best_window(a, b, rb / ra), _best_window(b, a, ra / rb))
        if s > best:
            best, best_g = s, g
        if best >= enough:
            break
    return best, best_g
