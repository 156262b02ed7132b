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
- the mirror hint of a candidate pair (candidates.py): B's signature mirrored agrees with
  A's better than as it is.
- ``colourfulness`` (kept beside the signature): a grey copy of a colour photo sits further
  from it in the CNN space than other edits do; the candidates look a little wider for it.
The strict check itself works on local features (features.py, verify.py).
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

SIDE = 48
HASH_SIDE = 32
HASH_FREQ = 8
MIN_CONTRAST = 6.0  # grey-level std below this: a blank picture, never a near duplicate
# Pictures too small to be a photo (icons, emoji, text snippets such as testdata's wee.jpg,
# 34 x 42) are never near duplicates: no candidate pair, no rotation hash. The gate was
# "64 px on the shorter side" from the first duplicates finder (470881d) on; it kept out
# every thumbnail people make (issue 20: about 96 px on the long side, 54 px high at 16:9),
# though the verdict judges those (frames enlarged, FRAME_MIN; too little to place: a similar
# shot with the reason). A photo's thumbnail is at least MIN_LONG_SIDE on its long side and
# MIN_SHORT_SIDE on its short one (a 3:1 panorama at 96 px is 32 px high).
MIN_LONG_SIDE = 48
MIN_SHORT_SIDE = 32

# D4 as (transpose, flip rows, flip columns) applied in that order to a square array.
DIHEDRAL = [(False, False, False), (True, False, True), (False, True, True), (True, True, False),
            (False, False, True), (False, True, False), (True, False, False), (True, True, True)]
NAMES = ["as is", "turned 90°", "turned 180°", "turned 270°", "mirrored left-right",
         "mirrored top-bottom", "mirrored on the diagonal", "mirrored on the anti-diagonal"]


COLOURLESS = 2.0  # mean |R-G| + |G-B| (grey levels) below which a picture has no colour


def _squash(img: Image.Image) -> Image.Image:
    """The picture squashed to SIDE x SIDE by box means (a big one reduced first)."""
    if max(img.size) > 4 * SIDE:
        img = img.reduce(max(1, min(img.size) // (2 * SIDE)))
    return img.resize((SIDE, SIDE), Image.Resampling.BOX)


def colourfulness(img: Image.Image) -> float:
    """How far from grey a decoded picture is: the mean of |R-G| + |G-B| over its squash
    (a grey picture saved as an RGB JPEG: about 0; scikit-image's colour photos: 4.9 to 113)."""
    a = np.asarray(_squash(img.convert("RGB")), np.int16)
    return float(np.abs(a[..., 0] - a[..., 1]).mean() + np.abs(a[..., 1] - a[..., 2]).mean())


def compute(img: Image.Image) -> bytes:
    """The signature of a decoded RGB picture (orientation applied)."""
    return _squash(img.convert("L")).tobytes()


def as_array(sig: bytes) -> np.ndarray:
    return np.frombuffer(sig, np.uint8).reshape(SIDE, SIDE).astype(np.float32)


def transform(a: np.ndarray, g: int) -> np.ndarray:
    """``a`` transformed by DIHEDRAL[g] on its last two axes (one picture, or a stack)."""
    t, fr, fc = DIHEDRAL[g]
    if t:
        a = np.swapaxes(a, -1, -2)
    if fr:
        a = a[..., ::-1, :]
    if fc:
        a = a[..., ::-1]
    return a


def swaps_sides(g: int) -> bool:
    return DIHEDRAL[g][0]


# -- hashing ------------------------------------------------------------------------------
def _dct_matrix(n: int, k: int) -> np.ndarray:
    x = np.arange(n)
    m = np.cos(np.pi * (2 * x[None, :] + 1) * np.arange(k)[:, None] / (2 * n))
    return m.astype(np.float32)


def _resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in): one side of the shrink to HASH_SIDE (block means when n_out divides
    n_in, else linear interpolation between the two nearest samples)."""
    m = np.zeros((n_out, n_in))
    if n_in % n_out == 0:
        f = n_in // n_out
        for i in range(n_out):
            m[i, i * f:(i + 1) * f] = 1.0 / f
        return m
    idx = np.linspace(0, n_in - 1, n_out)
    lo = np.floor(idx).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    w = idx - lo
    np.add.at(m, (np.arange(n_out), lo), 1 - w)
    np.add.at(m, (np.arange(n_out), hi), w)
    return m


# the shrink to HASH_SIDE and the low DCT are both linear: one (8, SIDE) matrix does both
_R = (_dct_matrix(HASH_SIDE, HASH_FREQ).astype(np.float64) @ _resize_matrix(SIDE, HASH_SIDE)
      ).astype(np.float32)
_ODD = (np.arange(HASH_FREQ) % 2 == 1)


def low_dct(sigs: np.ndarray) -> np.ndarray:
    """(n, SIDE*SIDE) uint8 signatures -> (n, 8, 8) low DCT coefficients [row freq, col freq]
    of the picture shrunk to HASH_SIDE x HASH_SIDE."""
    a = sigs.reshape(-1, SIDE, SIDE).astype(np.float32)
    return _R @ (a @ _R.T)


def _bits(c: np.ndarray) -> np.ndarray:
    """(n, 8, 8) coefficients -> (n,) uint64 sign hash (the DC term left out): bit i is the
    sign of coefficient i + 1 in row-major order."""
    flat = c.reshape(len(c), -1)[:, 1:] > 0
    packed = np.packbits(np.pad(flat, ((0, 0), (0, 1))), axis=1, bitorder="little")
    return packed.view("<u8").reshape(-1).astype(np.uint64)


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



# -- the coarse picture, compared whole ----------------------------------------------------
# An overlay (a sticker, a watermark, a caption), heavy noise or a frame pulls a copy far from
# its original in the CNN space (a sticker is the most salient thing in the picture), and its
# hash flips many signs, yet the picture's coarse layout stays where it was: on the issue-20
# set, of the 30 copies of real photos (holidays) that a direct check judges copies of their
# original but that ended in no group with it, 11 had the original among the two photos
# most correlated with them at 0.9 or more (candidates.COARSE_K, COARSE_CORR).
COARSE = 12  # the coarse picture's side: box means of SIDE // COARSE pixels
# Each coarse picture is searched in one orientation of its own, the canonical one: turned
# and mirrored so that its brightness leans right and down, more right than down (its first
# moments u >= 0, v >= 0, u >= v). A turned or mirrored copy has the same canonical picture.
# An edit moves the moments a little: a photo also asks in every orientation within
# CANON_SLACK of canonical (of the moments' length, plus CANON_FLOOR): 1.6 asks a photo on
# the issue-20 set, where asking in all eight (and stripped, eight more) found 3,322 pairs
# against 3,290, and at 100,000 photos took the candidate stage from 35 s to 67 s.
CANON_SLACK, CANON_FLOOR = 0.2, 0.2
_X = np.arange(COARSE, dtype=np.float32) - (COARSE - 1) / 2


def coarse(sigs: np.ndarray) -> np.ndarray:
    """(n, SIDE*SIDE) signatures -> (n, COARSE*COARSE) float32: the picture shrunk to COARSE
    x COARSE by box means, centred and scaled to unit length (an inner product is a
    correlation)."""
    f = SIDE // COARSE
    a = sigs.reshape(-1, COARSE, f, COARSE, f).astype(np.float32).mean(axis=(2, 4))
    a = a.reshape(len(a), -1)
    a -= a.mean(axis=1, keepdims=True)
    return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-6)


def turned(c: np.ndarray, g: int) -> np.ndarray:
    """(n, COARSE*COARSE) coarse pictures, each transformed by DIHEDRAL[g]."""
    a = transform(c.reshape(-1, COARSE, COARSE), g)
    return np.ascontiguousarray(a).reshape(len(c), COARSE * COARSE)


def _moments(c: np.ndarray) -> np.ndarray:
    """(n, 8, 2): the first moments (u: along the columns, v: down the rows) of each coarse
    picture in each orientation (a transpose swaps them, a flip negates one)."""
    a = c.reshape(-1, COARSE, COARSE)
    u0, v0 = (a * _X[None, None, :]).sum(axis=(1, 2)), (a * _X[None, :, None]).sum(axis=(1, 2))
    out = np.empty((len(a), 8, 2), np.float32)
    for g, (t, fr, fc) in enumerate(DIHEDRAL):
        u, v = (v0, u0) if t else (u0, v0)
        out[:, g] = np.stack([-u if fc else u, -v if fr else v], axis=1)
    return out


def canonical(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the canonical orientation of each coarse picture, (n,), and (n, 8): the orientations
    it asks in, those within the slack of canonical)."""
    m = _moments(c)
    u, v = m[..., 0], m[..., 1]
    best = np.argmax((u >= 0) & (v >= 0) & (u >= v), axis=1)
    slack = CANON_SLACK * np.linalg.norm(m[:, 0], axis=1, keepdims=True) + CANON_FLOOR
    asks = (u >= -slack) & (v >= -slack) & (u >= v - slack)
    asks[np.arange(len(c)), best] = True
    return best, asks


# -- the picture inside its frame -----------------------------------------------------------
# A frame, a border or letterbox bars shrink the picture inside a copy: its hash is that of
# another picture (issue 20: the dihedral hash of a framed copy sat 21-24 bits from its
# original's). Flat rows and columns at the edges are stripped before hashing, in the
# original and the copy alike (a sky flat at the top goes from both).
FLAT_EDGE = 6.0  # grey-level std along a row or column below this: flat (a frame, a bar)
MAX_TRIM = SIDE // 3  # at most a third of the signature from each side


def _flat_run(flat: np.ndarray) -> np.ndarray:
    """(n, m) booleans -> (n,) how many leading entries are True, at most MAX_TRIM."""
    run = np.argmin(np.concatenate([flat, np.zeros((len(flat), 1), bool)], axis=1), axis=1)
    return np.minimum(run, MAX_TRIM)


def trimmed(sigs: np.ndarray) -> np.ndarray:
    """(n, SIDE*SIDE) signatures -> the same with flat edge rows and columns stripped and
    what is left stretched back to SIDE x SIDE (unchanged where no edge is flat)."""
    a = sigs.reshape(-1, SIDE, SIDE)
    f = a.astype(np.float32)
    rows = f.std(axis=2) < FLAT_EDGE  # (n, SIDE)
    cols = f.std(axis=1) < FLAT_EDGE
    top, bottom = _flat_run(rows), _flat_run(rows[:, ::-1])
    left, right = _flat_run(cols), _flat_run(cols[:, ::-1])
    out = a.copy()
    for i in np.nonzero(top + bottom + left + right)[0].tolist():
        inner = a[i, top[i]:SIDE - bottom[i], left[i]:SIDE - right[i]]
        out[i] = cv2.resize(inner, (SIDE, SIDE), interpolation=cv2.INTER_LINEAR)
    return out.reshape(len(a), -1)
