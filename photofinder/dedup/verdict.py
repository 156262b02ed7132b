"""The verdict on one candidate pair, in one place: is B a copy of A (the same exposure,
edited or not), another shot of the same scene (a burst frame, another view), or unrelated?

A copy is the same exposure: once lined up, nothing in the picture has moved. Edits change
pixel values without moving content (tone and colour, noise, blur, compression, overlays,
frames) or move all of it at once (crop, border, turn, mirror, resize, slight rotation):
none of them is evidence of another exposure. Motion is: a subject that moved, parallax, the
perspective of a turned camera. So the verdict lines the pair up (verify.align: ORB, one
similarity), then measures where each patch of B sits in A (``measure``), and the rules
below read that evidence, each on its own:

1. ``lined_up``: no transform found, or too little overlap: SIMILAR (tentative) when the
   CNN says they look alike, else UNRELATED.
2. ``moved``: more than ``MOVED_SHARE`` of the measured patches sit elsewhere than the
   transform says (a subject, parallax): SIMILAR.
3. ``perspective``: the patch offsets follow a smooth field that no similarity/affine map
   explains (a tripod pan, a step aside), ``FIELD_RMS`` px or more over the picture: SIMILAR.
4. ``still``: at least ``STILL_SHARE`` of the textured patches sit still (an overlay or a
   caption hides a region of less than 3 in 10, in place), or ``STILL_SHARE_NOISY`` when the
   patches not placed are scattered or one side is grainy (noise, heavy compression): COPY.
   Else SIMILAR (tentative): a region that cannot be placed may have moved. Too few patches
   to tell (a tiny or flat picture): the whole pictures must agree (``FLAT_NCC``), lined
   up by keypoints (lined up as whole pictures, a smooth burst frame agrees as well), else
   SIMILAR (tentative) with the reason.
5. ``capture_time``: a COPY whose two files carry different capture times (EXIF
   DateTimeOriginal) is another exposure: SIMILAR (the finder asks it, with the times).
Weak evidence leaves a SIMILAR ``tentative``: other pairs of the two groups are still
checked (the finder), and the pair is never dropped silently.

The score: for a COPY or a lined-up SIMILAR, the share of B's measured patches that sit
where the transform says, in [0, 1] (1: all of them); 0 when not lined up. ``edit`` says
what a COPY changed in the look (tone, colour): a deliberate edit, never pre-selected for
the trash (keeper.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, cast

import cv2
import numpy as np

from photofinder.dedup import verify as V
from photofinder.dedup.features import CHROMA_CELL, Features

_fft: Any = np.fft  # numpy's 2-D FFT goes axis by axis: about 1.5x the time of ...
try:  # ... scipy's pocketfft, the same bits (the same library), a 2-D batch in one call
    from scipy import fft as _scipy_fft  # (not a dependency of ours: used where installed)
    _fft = _scipy_fft
except ImportError:
    pass

MIN_OVERLAP = 0.3  # of the smaller picture's content
FRAME_MIN = 160  # px: the frame of comparison is at least this long (a thumbnail enlarged)
TILE = 16  # px of the frame
STRIDE = TILE // 2
TEXTURED = 4.0  # patch std (grey levels) below which a patch says nothing
CONFIDENT = 0.25  # phase correlation peak: the patch was found
STILL_PX = 1.25  # px of the coarser picture: a patch within this sits still
MOVED_SHARE = 0.07  # of the measured patches: more have moved (another exposure)
STILL_SHARE = 0.7  # of the textured patches: this many sitting still make a copy (an
# overlay hides less than 3 in 10: a caption 14%, a sticker 3%, a centred watermark 10%) ...
STILL_SHARE_NOISY = 0.45  # ... or this many when one side is grainy or the hidden patches
# are scattered (noise and heavy compression hide patches everywhere, in place; what moved,
# and an overlay, hide a region)
SCATTERED = 0.5  # hidden patches whose neighbours are hidden less than this: scattered
STILL_SHARE_AGREE = 0.5  # ... or this many when no patch was found moved or displaced, the
# pictures agree as a whole (AGREE_NCC) and the hidden patches are not one region (LOOSE):
# heavy compression of fine texture hides patches in place, in loose clusters. (In the
# duplicates_quality set no look-alike pair of that kind reached 0.44; the copies it
# missed did, from 0.50 to 0.69.)
AGREE_NCC = 0.95  # the whole lined-up pictures correlate at least this well
LOOSE = 0.8  # hidden patches whose neighbours are hidden less than this: not one region
FIELD_RMS = 0.16  # px of the coarser picture: a smooth residual field this strong has moved
FIELD_SE = 2.5  # ... and this many times its standard error (patch offsets are noisy)
FIELD_MAYBE_SE = 1.2  # ... from this many: cannot tell (a similar shot, tentative). 1.5 let 7
# tripod pans of 67 into copy groups (their field 1.2-1.5 SE); at 1.2 one copy pair of 1,506 is
# unsure (duplicates_quality, alike in both halves of the sources)
FIELD_FIT_PX = 3.0  # patches off by more than this are no part of the smooth field
MOVED_NCC = 0.6  # a moved patch matches A where it moved to at least this well
MOVED_GAIN = 0.1  # ... and this much better than in place
DISPLACED_MAX = 32  # lost patches looked for elsewhere, at most
DISPLACED_NCC = 0.75  # a lost patch found elsewhere this well (and better than in place) moved
MIN_TILES = 8  # fewer measured patches say too little
FLAT_NCC = 0.95  # a flat pair (too few patches) agrees this well overall to be a copy
TONE = 0.05  # median change of a still patch's grey level (relative) that is a tone edit
COLOUR = 6.0  # mean chroma change (grey levels) that is a colour edit
GREY = 1.0  # mean |chroma| (grey levels) under which a picture is grey
# ... and at least this on the other side for black and white: a grey photo's copy with a
# coloured sticker or colour noise is no colour photo (1.2-1.5 seen; black-and-white copies
# of the benchmark's colour sources: 2.2 and up)
COLOURFUL = 1.8
# saturation: the colour of the shared cells stronger or weaker by this much (|log ratio|),
# on a picture with colour (mean |chroma| >= VIVID). Set on the benchmark's copies: a
# saturation edit alone 0.31-0.92; damage up to 0.30 (a sticker or a caption adds colour to a
# pale picture), none at 0.35 with VIVID 3 (damage: 99% under 0.25).
SATURATION = 0.35
VIVID = 3.0
SHARPENED = 0.9  # fine detail correlated this well, one side's stronger: sharpened
BLURRED = 0.3  # a side with this share less fine detail than the other is blurred
GRAIN_SHARED = 0.15  # fine parts this much better correlated than noise would be: detail
DETAIL_BLOCK = 16  # px of the frame: the blocks over which detail is compared
DETAIL_LEVEL = 2.0  # grey levels of fine detail (rms): a block with detail
DETAIL_BLOCKS = 12  # blocks with detail, at least, to tell whether one side lost it
OVERLAID_GREY = 12.0  # coarse pictures this far apart (tone matched) show an overlay there
OVERLAID_MOST = 0.3  # ... unless that is more of the picture than this (a look changed)


class Kind(str, Enum):
    COPY = "copy"
    SIMILAR = "similar"
    UNRELATED = "none"


@dataclass
class Verdict:
    kind: Kind
    score: float  # the share of measured patches in place (see the module docstring)
    why: str
    rule: str  # the rule that decided
    tentative: bool = False  # SIMILAR on weak evidence: other pairs of the groups may be copies
    matrix: np.ndarray | None = None  # 2x3: B's grey pixels -> A's grey pixels (mirror first)
    mirrored: bool = False
    edit: str | None = None  # a COPY whose look was changed: "tone", "colour", "black and white"
    stats: dict = field(default_factory=dict)
    damage: tuple[float, float] = (0.0, 0.0)  # (A's, B's): noise or blur the other has not


@dataclass
class Evidence:
    """What ``measure`` saw of a lined-up pair (px are the coarser picture's)."""
    overlap: float
    ncc: float
    textured: int  # patches with texture on both sides
    still: int  # found where the transform says
    moved: int  # found elsewhere
    field_rms: float  # the smooth residual field no similarity/affine map explains
    field_se: float  # its standard error (noise of the patch offsets)
    tone: float  # relative change of grey level/contrast
    colour: float  # mean chroma change
    stats: dict = field(default_factory=dict)
    displaced: int = 0  # patches not found in place but found moved (a subject moved far)
    damage: tuple[float, float] = (0.0, 0.0)  # (A's, B's), see ``_damage``
    grainy: bool = False  # one side's noise well above the other's (``_grainy``)
    clustered: float = 0.0  # of a hidden patch's textured neighbours, the share hidden too
    chroma: tuple[float, float] = (0.0, 0.0)  # each side's mean colour (|chroma|, grey levels;
    # under GREY: a grey picture)
    vivid: tuple[float, float] = (0.0, 0.0)  # the same, where both pictures are (the shared cells)

    @property
    def measured(self) -> int:
        return self.still + self.moved


# -- the rules --------------------------------------------------------------------------------
def rule_lined_up(M, ev: Evidence | None, near: bool, cosine: float | None) -> Verdict | None:
    if M is not None and ev is not None and ev.overlap >= MIN_OVERLAP:
        return None
    reason = "does not line up" if M is None else "too little of it lines up"
    if near:
        return Verdict(Kind.SIMILAR, 0.0, f"looks alike {cosine:.2f}, {reason}", "lined_up", True)
    return Verdict(Kind.UNRELATED, 0.0, reason, "lined_up")


def rule_moved(ev: Evidence) -> Verdict | None:
    moved = ev.moved + ev.displaced
    if ev.measured >= MIN_TILES and moved > MOVED_SHARE * (ev.measured + ev.displaced):
        return Verdict(Kind.SIMILAR, ev.still / max(ev.measured, 1),
                       f"another shot: {100 * moved / (ev.measured + ev.displaced):.0f}% of the "
                       "picture has moved after lining up", "moved")
    return None


def rule_perspective(ev: Evidence) -> Verdict | None:
    if ev.measured < MIN_TILES or ev.field_rms < FIELD_RMS:
        return None
    score = ev.still / max(ev.measured, 1)
    if ev.field_rms >= FIELD_SE * ev.field_se:
        return Verdict(Kind.SIMILAR, score, f"another shot: the view has shifted by "
                       f"{ev.field_rms:.1f} px across the picture after lining up (perspective "
                       "or parallax)", "perspective")
    if ev.field_rms < FIELD_MAYBE_SE * ev.field_se:
        return None  # no more than the patches' own scatter makes (heavy compression, noise)
    # a shift of that size, but the patches place too loosely to be sure (a small picture)
    return Verdict(Kind.SIMILAR, score, f"cannot tell a copy from another shot: the view may "
                   f"have shifted by {ev.field_rms:.1f} px (±{ev.field_se:.1f})", "perspective",
                   tentative=True)


def rule_still(ev: Evidence, pixels: float, whole: bool = False) -> Verdict:
    """``whole``: lined up as whole pictures (no keypoints agreed on a transform)."""
    if ev.measured < MIN_TILES:
        # too few patches to see motion: the whole pictures must agree, on keypoints that
        # agree too (lined up as whole pictures, a smooth burst frame or another view agrees
        # as well as a copy: 6 of the 7 such "copies" of duplicates_quality were other shots)
        if ev.ncc >= max(FLAT_NCC, pixels) and not whole:
            return Verdict(Kind.COPY, ev.ncc, f"pixels agree {ev.ncc:.2f} after lining up "
                           "(little texture to place)", "still")
        return Verdict(Kind.SIMILAR, max(ev.ncc, 0.0), "too small or flat to tell a copy from "
                       "another shot", "still", tentative=True)
    share = ev.still / max(ev.textured, 1)
    scattered = ev.grainy or ev.clustered < SCATTERED
    agree = ev.moved == 0 and ev.displaced == 0 and ev.ncc >= AGREE_NCC and ev.clustered < LOOSE
    need = STILL_SHARE_NOISY if scattered else STILL_SHARE_AGREE if agree else STILL_SHARE
    if share >= need:
        hidden = ev.textured - ev.still
        more = (f"; {100 * hidden / ev.textured:.0f}% hidden by an edit (not moved)"
                if hidden > 0.15 * ev.textured else "")
        return Verdict(Kind.COPY, ev.still / ev.measured,
                       f"nothing moved after lining up{more}", "still")
    return Verdict(Kind.SIMILAR, ev.still / max(ev.measured, 1),
                   f"only {100 * share:.0f}% of the picture could be placed: not sure it is a copy",
                   "still", tentative=True)


def rule_capture_time(v: Verdict, taken_a: str | None, taken_b: str | None) -> Verdict:
    """A copy is one exposure: two different capture times make another shot."""
    if v.kind is Kind.COPY and taken_a and taken_b and taken_a != taken_b:
        return Verdict(Kind.SIMILAR, v.score, f"another shot: taken {taken_a}, the other {taken_b}",
                       "capture_time", False, v.matrix, v.mirrored, None, v.stats)
    return v


def look_edit(ev: Evidence) -> str | None:
    """What a copy changed in the look, if anything (deliberate: never pre-selected)."""
    grey_a, grey_b = (c < GREY for c in ev.chroma)
    if grey_a != grey_b and max(ev.chroma) >= COLOURFUL:
        return "black and white"
    if ev.colour >= COLOUR:
        return "colour"
    weak, strong = sorted(ev.vivid)
    if strong >= VIVID and math.log(strong / max(weak, 0.5)) >= SATURATION:
        return "colour"
    if ev.tone >= TONE:
        return "tone"
    return None


# -- the verdict ------------------------------------------------------------------------------
def judge(fa: Features, fb: Features, th: dict, cosine: float | None = None,
          mirror_hint: bool = False, turn: int | None = None) -> Verdict:
    """The verdict on B against A. ``th``: finder.thresholds (``pixels``, ``similar_cosine``);
    ``cosine``: the CNN's, when the pair came from it; ``mirror_hint``: try B mirrored;
    ``turn``: the dihedral index the pixel signatures matched at (candidates.py)."""
    near = cosine is not None and cosine >= th["similar_cosine"]
    v = _judge(fa, fb, th, cosine, near, mirror_hint, False)
    if v.rule == "lined_up" and v.matrix is None:
        turns = [0, 4] if mirror_hint else [0]
        if turn:
            turns += [turn, INVERSE[turn]]
        M = V.align_whole(fa, fb, turns)
        if M is not None:  # the keypoints could not; the whole pictures could
            w = _verdict(fa, fb, fb.grey, fb.box, fb.chroma, M, False, 0, th, cosine, near, True)
            if w.kind is Kind.COPY or w.rule != "lined_up":
                w.why += " (lined up as a whole)"
                return w
    if mirror_hint and v.mirrored and v.kind is not Kind.COPY:
        plain = _judge(fa, fb, th, cosine, near, False, False)  # a symmetric scene fooled the hint
        if plain.kind is Kind.COPY:
            return plain
    if v.kind is not Kind.COPY and V.aspect_changed(fa, fb, v.matrix, v.stats.get("angle", 0.0)):
        w = _judge(fa, fb, th, cosine, near, mirror_hint, True)  # a squashed copy: affine
        if w.kind is Kind.COPY and V.squashed(cast(np.ndarray, w.matrix)):  # (a copy's: set)
            return w
    return v


INVERSE = [0, 3, 2, 1, 4, 5, 6, 7]  # the dihedral index that undoes each


def _judge(fa, fb, th, cosine, near, mirror_hint, full) -> Verdict:
    M, n, mirrored, grey_b = V.align(fa, fb, mirror_hint, full)
    box_b, chroma_b = fb.box, fb.chroma
    if M is not None and mirrored:
        w = fb.grey.shape[1]
        box_b = (w - fb.box[2], fb.box[1], w - fb.box[0], fb.box[3])
        chroma_b = chroma_b[:, ::-1] if chroma_b is not None else None
    return _verdict(fa, fb, grey_b, box_b, chroma_b, M, mirrored, n, th, cosine, near)


def _verdict(fa, fb, grey_b, box_b, chroma_b, M, mirrored, n, th, cosine, near,
             whole: bool = False) -> Verdict:
    """The rules, in order, on the evidence of B (as lined up by M) against A."""
    ev = measure(fa, grey_b, box_b, chroma_b, M, fb.full_pixels) if M is not None else None
    v = rule_lined_up(M, ev, near, cosine)
    if v is not None:
        v.stats = {"inliers": n, **(ev.stats if ev else {})}
        v.matrix, v.mirrored = (M, mirrored) if ev is not None else (None, False)
        return v
    ev, M = cast(Evidence, ev), cast(np.ndarray, M)  # (past rule_lined_up: both are there)
    v = rule_moved(ev) or rule_perspective(ev) or rule_still(ev, th["pixels"], whole)
    angle = float(np.degrees(np.arctan2(M[1, 0], M[0, 0])))
    how = V.describe(angle, mirrored)
    if how:
        v.why += how
    if cosine is not None:
        v.why = f"looks alike {cosine:.2f}, " + v.why
    v.matrix, v.mirrored = M, mirrored
    v.stats = {**ev.stats, "inliers": n, "angle": angle, "scale": math.sqrt(abs(V.det(M)))}
    if v.kind is Kind.COPY:
        v.edit = look_edit(ev)
        v.damage = ev.damage
    return v


# -- the evidence -----------------------------------------------------------------------------
def measure(fa: Features, grey_b: np.ndarray, box_b, chroma_b, M: np.ndarray,
            full_b: int = 0) -> Evidence:
    """Where B's patches sit in A once lined up by M (B's grey -> A's grey), measured in the
    frame of the coarser picture (the finer one brought down to its detail first), at least
    FRAME_MIN px long: per patch, its offset by phase correlation (which a tone change, noise
    or blur does not move), then the smooth field through the offsets."""
    s = math.sqrt(abs(V.det(M)))
    if s >= 1.0:  # B is the coarser (its pixels are larger in A): B's frame
        ref, ref_box, other, other_box = grey_b, box_b, fa.grey, fa.box
        to_ref = cv2.invertAffineTransform(M)
        ref_chroma, other_chroma, down = chroma_b, fa.chroma, s
    else:
        ref, ref_box, other, other_box = fa.grey, fa.box, grey_b, box_b
        to_ref = M.astype(np.float64)
        ref_chroma, other_chroma, down = fa.chroma, chroma_b, 1.0 / s
    k = max(1.0, FRAME_MIN / max(ref.shape))
    h, w = round(ref.shape[0] * k), round(ref.shape[1] * k)
    a = cv2.resize(ref, (w, h), interpolation=cv2.INTER_CUBIC) if k > 1 else ref
    if down > 1.3:  # the finer picture brought down to the coarser one's detail
        other = cv2.GaussianBlur(other, (0, 0), 0.45 * down)
    Mk = to_ref * k
    b = cv2.warpAffine(other, Mk, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
    box_a = tuple(x * k for x in ref_box)
    mask = cv2.bitwise_and(V.box_mask((h, w), box_a), V.box_mask((h, w), other_box, Mk, other.shape))
    mask = cv2.erode(mask, np.ones((5, 5), np.uint8))
    n_both = cv2.countNonZero(mask)
    ref_content = max(1.0, V.area(ref_box) * k * k)
    other_content = max(1.0, V.area(other_box) * abs(V.det(Mk)))
    overlap = n_both / min(ref_content, other_content)
    ev = Evidence(overlap, 0.0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0,
                  {"overlap": overlap, "frame": (w, h)})
    if n_both < 400:
        return ev
    # the noise of each side sets how much both are smoothed before patches are compared
    noise_ref, noise_other = _noise(a, mask), _noise(b, mask)
    noise = max(noise_ref, noise_other)
    ev.grainy = _grainy(noise_ref, noise_other)
    sigma = k * max(1.0, noise / 4.0)
    af = cv2.GaussianBlur(a, (0, 0), sigma).astype(np.float32)
    bf = cv2.GaussianBlur(b, (0, 0), sigma).astype(np.float32)
    m = mask > 0
    va, vb = af[m], bf[m]
    sa, sb = float(va.std()), float(vb.std())
    ev.ncc = float(((va - va.mean()) * (vb - vb.mean())).mean() / max(sa * sb, 1e-6))
    _colour(ev, ref_chroma, other_chroma, to_ref, mask)
    # sharpness compares only between files of about one size (a resize's filter, or the
    # features' own shrink of a larger file, sets how sharp a picture looks)
    px = sorted((max(fa.full_pixels, 1), max(full_b, 1)))
    d_ref, d_other = _damage(a, b, mask, k, noise_ref, noise_other,
                             down <= 1.3 and px[1] <= 1.7 * px[0])
    ev.damage = (d_other, d_ref) if s >= 1.0 else (d_ref, d_other)
    _patches(ev, af, bf, mask, k, noise)
    ev.stats.update(noise=round(noise, 2), sigma=round(sigma, 2), ncc=round(ev.ncc, 4),
                    tone=round(ev.tone, 3), colour=round(ev.colour, 2))
    return ev


def _damage(a: np.ndarray, b: np.ndarray, mask: np.ndarray, k: float, noise_a: float,
            noise_b: float, same_size: bool) -> tuple[float, float]:
    """Which side gained grain (noise: its noise estimate well above the other's, and its
    extra fine energy not shared by the other side) or lost detail (blur: the fine detail
    relative to the coarse contrast, so that a tone edit changes both alike, clearly less on
    one side in the median block with detail; only between pictures of about one size: a
    resize's filter sets how sharp the smaller looks; a picture with too little detail says
    nothing), as a share in [0, 1]. An overlay's place is left out: its sharp edges are
    neither detail nor grain."""
    m = mask > 0
    fine, coarse, lows = [], [], []
    for x in (a, b):
        xf = x.astype(np.float32)
        low = cv2.GaussianBlur(xf, (0, 0), 1.5 * k)
        fine.append(xf - low)
        lows.append(low)
    # an overlay (a caption, a date stamp, a logo) brings its own sharp edges: its place, where
    # the coarse pictures differ after the tone is matched, says nothing of blur or grain
    kept = m & ~_overlaid(lows[0], lows[1], m, k, max(noise_a, noise_b))
    m = kept if np.count_nonzero(kept) >= 0.5 * np.count_nonzero(m) else m
    coarse = [float(low[m].std()) + 1.0 for low in lows]
    # detail lost all over, not in a few places: the median over the blocks with detail of
    # the two sides' fine energy (a smooth picture, little detail anywhere: nothing to lose)
    ratio = _detail_ratio(fine[0] ** 2, fine[1] ** 2, m, max(8, int(round(DETAIL_BLOCK * k))))
    fine = [f[m] for f in fine]
    ea = float(fine[0] @ fine[0]) / len(fine[0]) / coarse[0] ** 2
    eb = float(fine[1] @ fine[1]) / len(fine[1]) / coarse[1] ** 2
    rho = float(fine[0] @ fine[1]) / max(math.sqrt(float(fine[0] @ fine[0]) * float(fine[1] @ fine[1])), 1e-9)
    lo_e, hi_e = min(ea, eb), max(ea, eb, 1e-12)
    if ratio is not None:
        ea, eb = 1.0 / coarse[0] ** 2, ratio / coarse[1] ** 2
    blur_lo, blur_hi = min(ea, eb), max(ea, eb, 1e-12)
    loss = 1.0 - math.sqrt(blur_lo / blur_hi) if ratio is not None else 0.0
    # grain: one side's noise estimate well above the other's while its fine detail is not
    # much more (a sharp original has more of both than its blurred copy, by far more detail)
    # (or far more, but none of it shared: noise adds energy the other side does not have,
    # so the two sides' fine parts correlate no better than sqrt(lo / hi), while a blurred
    # or sharpened copy keeps the same detail, weaker or stronger: well above it)
    if _grainy(noise_a, noise_b) and (hi_e < 2.5 * lo_e
                                      or rho < math.sqrt(lo_e / hi_e) + GRAIN_SHARED):
        grain = 1.0 - min(noise_a, noise_b) / max(noise_a, noise_b)
        return (grain, 0.0) if noise_a > noise_b else (0.0, grain)  # the noisy side
    if loss < BLURRED or not same_size:
        return 0.0, 0.0
    if rho >= SHARPENED:  # the same detail, one side's pushed up: sharpened
        return (loss, 0.0) if ea > eb else (0.0, loss)
    return (loss, 0.0) if ea < eb else (0.0, loss)  # the blurred side


def _detail_ratio(ea: np.ndarray, eb: np.ndarray, m: np.ndarray, size: int) -> float | None:
    """The median over blocks (``size`` px, wholly in ``m``) with detail on either side of
    B's fine energy over A's; None when fewer than ``DETAIL_BLOCKS`` blocks have detail."""
    h, w = m.shape
    bh, bw = h // size, w // size
    if bh * bw < DETAIL_BLOCKS:
        return None

    def blocks(x: np.ndarray) -> np.ndarray:
        return x[:bh * size, :bw * size].reshape(bh, size, bw, size).sum(axis=(1, 3))
    whole = blocks(m.astype(np.float32)) >= size * size
    sa, sb = blocks(np.where(m, ea, 0)), blocks(np.where(m, eb, 0))
    ok = whole & (np.maximum(sa, sb) >= DETAIL_LEVEL ** 2 * size * size)
    if np.count_nonzero(ok) < DETAIL_BLOCKS:
        return None
    return float(np.median(sb[ok] / np.maximum(sa[ok], 1e-9)))


def _overlaid(low_a: np.ndarray, low_b: np.ndarray, m: np.ndarray, k: float,
              noise: float) -> np.ndarray:
    """Where one side shows something the other does not: the coarse pictures (B's tone
    fitted to A's, a straight line) differ by more than ``OVERLAID_GREY`` plus the noisier
    side's noise (grain left after smoothing is no overlay), widened by the smoothing's
    reach; none where that is most of the picture (a look changed all over, not an
    overlay)."""
    va, vb = low_a[m], low_b[m]
    none = np.zeros_like(m)
    if len(va) < 100:
        return none
    # the least-squares line (np.polyfit's, by its closed form: a tenth of the time)
    ma, mb = float(va.mean(dtype=np.float64)), float(vb.mean(dtype=np.float64))
    var = float(np.square(vb - mb).mean(dtype=np.float64))
    slope = float(((vb - mb) * (va - ma)).mean(dtype=np.float64)) / var if var > 1e-6 else 1.0
    icpt = ma - slope * mb
    off = (np.abs(low_b * slope + icpt - low_a) > OVERLAID_GREY + noise) & m
    if off.sum() > OVERLAID_MOST * m.sum():
        return none
    r = max(1, int(round(3 * k)))
    return cv2.dilate(off.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)) > 0


def _grainy(noise_a: float, noise_b: float) -> bool:
    """One side's noise estimate well above the other's."""
    return max(noise_a, noise_b) >= 1.8 * min(noise_a, noise_b) + 1.0


def _noise(x: np.ndarray, mask: np.ndarray) -> float:
    """The noise's std in grey levels (Immerkaer's Laplacian estimator, median of the
    masked absolute response: texture edges count less)."""
    lap = cv2.filter2D(x.astype(np.float32), -1, _IMMERKAER)
    r = np.abs(lap[mask > 0])
    if len(r) < 100:
        return 0.0
    if x.dtype == np.uint8:  # whole numbers (an integer kernel on grey levels): the median
        # by counting, as np.median gives it (the two middle values' mean), without a sort
        counts = np.cumsum(np.bincount(r.astype(np.int32)))
        n = len(r)
        lo = np.float32(np.searchsorted(counts, (n - 1) // 2, side="right"))
        hi = np.float32(np.searchsorted(counts, n // 2, side="right"))
        return float((lo + hi) / np.float32(2)) / 0.6745 / 6
    return float(np.median(r)) / 0.6745 / 6


_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def _colour(ev: Evidence, ca, cb, to_ref, mask) -> None:
    if ca is None or cb is None:
        return
    ev.chroma = (float(np.abs(ca.astype(np.int16)).mean()), float(np.abs(cb.astype(np.int16)).mean()))
    ch, cw = ca.shape[:2]
    # the other's chroma cells warped onto the reference's, centre onto centre (a cell c
    # covers grey px CELL * c .. CELL * c + CELL - 1): corner onto corner put a turned or
    # resized copy's colours a cell off, and their edges read as a colour edit
    half = (CHROMA_CELL - 1) / 2
    cell_to_px = np.array([[CHROMA_CELL, 0, half], [0, CHROMA_CELL, half], [0, 0, 1]], np.float64)
    Mcell = (np.linalg.inv(cell_to_px) @ np.vstack([to_ref, [0, 0, 1]]) @ cell_to_px)[:2]
    ra = ca.astype(np.float32)
    rb = cv2.warpAffine(cb.astype(np.float32), Mcell, (cw, ch), flags=cv2.INTER_LINEAR, borderValue=0)
    cm = cv2.resize(mask, (cw, ch), interpolation=cv2.INTER_NEAREST) > 0
    cm = cm & (cv2.warpAffine(np.ones(cb.shape[:2], np.uint8), Mcell, (cw, ch),
                              flags=cv2.INTER_NEAREST, borderValue=0) > 0)
    if cm.sum() < 4:
        return
    ev.colour = float(np.abs(ra[cm] - rb[cm]).mean())
    ev.vivid = (float(np.abs(ra[cm]).mean()), float(np.abs(rb[cm]).mean()))


def _patches(ev: Evidence, a: np.ndarray, b: np.ndarray, mask: np.ndarray, k: float,
             noise: float) -> None:
    """Each textured patch's offset (phase correlation), then the offsets less the affine
    map through them: still, moved, and the smooth field that is left."""
    h, w = a.shape
    # patches every TILE / 2 px (overlapping: twice as many offsets on each axis)
    th, tw = (h - TILE) // STRIDE + 1, (w - TILE) // STRIDE + 1
    if th <= 0 or tw <= 0:
        return
    win = np.lib.stride_tricks.sliding_window_view
    # only the patches inside both pictures are cut out and measured (the rest say nothing)
    inside = win(mask, (TILE, TILE))[::STRIDE, ::STRIDE][:th, :tw].reshape(-1, TILE * TILE).min(axis=1) > 0
    cand = np.nonzero(inside)[0]
    cy, cx = np.divmod(cand, tw)
    ta = win(a, (TILE, TILE))[cy * STRIDE, cx * STRIDE]
    tb = win(b, (TILE, TILE))[cy * STRIDE, cx * STRIDE]
    sa, sb = ta.std(axis=(1, 2)), tb.std(axis=(1, 2))
    keep = np.minimum(sa, sb) >= TEXTURED
    idx = cand[keep]
    ev.textured = len(idx)
    if len(idx) == 0:
        return
    ta, tb = ta[keep], tb[keep]
    za = ta - ta.mean(axis=(1, 2), keepdims=True)
    zb = tb - tb.mean(axis=(1, 2), keepdims=True)
    fa = _fft.rfft2(za * _WINDOW)
    fb = _fft.rfft2(zb * _WINDOW)
    cross = fa * np.conj(fb)
    cross /= np.maximum(np.abs(cross), 1e-6)
    r = _fft.irfft2(cross, s=(TILE, TILE))
    flat = r.reshape(len(r), -1)
    peak = flat.argmax(axis=1)
    dy, dx = np.divmod(peak, TILE)
    n = np.arange(len(r))

    def sub(c0, cm, cp):
        d = cm - 2 * c0 + cp
        return np.where(np.abs(d) > 1e-6, 0.5 * (cm - cp) / np.where(d == 0, 1, d), 0.0)
    c0 = r[n, dy, dx]
    oy = sub(c0, r[n, (dy - 1) % TILE, dx], r[n, (dy + 1) % TILE, dx])
    ox = sub(c0, r[n, dy, (dx - 1) % TILE], r[n, dy, (dx + 1) % TILE])
    dy = np.where(dy > TILE // 2, dy - TILE, dy) + np.clip(oy, -0.5, 0.5)
    dx = np.where(dx > TILE // 2, dx - TILE, dx) + np.clip(ox, -0.5, 0.5)
    found = c0 > CONFIDENT
    ys, xs = np.divmod(idx, tw)
    x = (xs * STRIDE + TILE / 2) / k
    y = (ys * STRIDE + TILE / 2) / k
    dx, dy = dx / k, dy / k  # px of the coarser picture
    rx, ry, _ = _less_affine(x, y, dx, dy, found, STILL_PX)
    off = np.hypot(rx, ry)
    still = found & (off <= STILL_PX)
    moved = found & (off > STILL_PX)
    moved[moved] = _matches_there(a, b, ys[moved], xs[moved], dx[moved] * k, dy[moved] * k)
    moved = _coherent(moved, ys, xs, rx, ry, th, tw)
    ev.still, ev.moved = int(still.sum()), int(moved.sum())
    ev.clustered = _clustered(ys, xs, ~still & ~moved, th, tw)
    ev.field_rms, ev.field_se = _smooth_field(x, y, rx, ry, found & (off <= FIELD_FIT_PX),
                                              np.clip(c0, 0, 1) ** 2)
    if ev.moved <= 3 * MOVED_SHARE * max(ev.measured, 1):  # else plainly moved already
        unfound = np.nonzero(~found)[0]
        ev.displaced = _displaced(a, b, ys[unfound], xs[unfound], k)
    # the look: each still patch's mean (blur and noise leave it; a tone edit does not)
    ma, mb = ta.mean(axis=(1, 2))[still], tb.mean(axis=(1, 2))[still]
    if len(ma) >= 4:
        d = np.abs(mb - ma)
        ev.tone = float(np.median(d)) / max(float(np.median(ma)), 32.0)
        ev.stats["tone_levels"] = round(float(np.median(d)), 1)
    ev.stats.update(clustered=round(ev.clustered, 3), grainy=ev.grainy)
    ev.stats.update(textured=ev.textured, still=ev.still, moved=ev.moved, displaced=ev.displaced,
                    field_rms=round(ev.field_rms, 3), field_se=round(ev.field_se, 3))


def _displaced(a: np.ndarray, b: np.ndarray, ys, xs, k: float) -> int:
    """How many of the patches not found in place are found elsewhere in A, near, clearly
    better than in place, and moved as two more of them did (a subject moves as one): content
    that moved further than a patch can tell. An overlay's patch is found nowhere, or (a
    letter matching some texture) each somewhere else; a noisy patch, if anywhere, in place."""
    if len(ys) == 0:
        return 0
    h, w = a.shape
    reach = max(8, int(0.12 * max(h, w)))
    step = max(1, -(-len(ys) // DISPLACED_MAX))  # spread over the picture
    hits = []
    for y, x in zip(ys[::step].tolist(), xs[::step].tolist()):
        y0, x0 = y * STRIDE, x * STRIDE
        tpl = b[y0:y0 + TILE, x0:x0 + TILE]
        top, left = max(0, y0 - reach), max(0, x0 - reach)
        win = a[top:min(h, y0 + TILE + reach), left:min(w, x0 + TILE + reach)]
        r = cv2.matchTemplate(win, tpl, cv2.TM_CCOEFF_NORMED)
        _, best, _, (bx, by) = cv2.minMaxLoc(r)
        here = r[y0 - top, x0 - left]
        u, v = bx + left - x0, by + top - y0
        if best >= DISPLACED_NCC and best - here >= 0.2 and math.hypot(u, v) > 2 * k:
            hits.append((u, v))
    if len(hits) < 3:
        return 0
    d = np.array(hits, np.float64)
    alike = (np.hypot(*(d[:, None, :] - d[None, :, :]).transpose(2, 0, 1)) <= 3 * k).sum(axis=1) - 1
    return int((alike >= 2).sum()) * step


def _matches_there(a, b, ys, xs, dx, dy) -> np.ndarray:
    """Does each patch of B match A where its offset says it moved to, clearly better than
    in place (an overlay's edge throws the peak along itself, with nothing of A's there; a
    smooth patch matches anywhere near about as well: neither says anything moved)?"""
    h, w = a.shape
    y0, x0 = ys * STRIDE, xs * STRIDE
    ya, xa = y0 + np.rint(dy).astype(int), x0 + np.rint(dx).astype(int)  # B's at +offset in A
    inside = (ya >= 0) & (xa >= 0) & (ya + TILE <= h) & (xa + TILE <= w)
    ok = np.zeros(len(ys), bool)
    if not inside.any():
        return ok
    win = np.lib.stride_tricks.sliding_window_view
    wa, wb = win(a, (TILE, TILE)), win(b, (TILE, TILE))
    i = np.nonzero(inside)[0]
    pb = wb[y0[i], x0[i]].reshape(len(i), -1)
    there = _ncc_rows(wa[ya[i], xa[i]].reshape(len(i), -1), pb)
    here = _ncc_rows(wa[y0[i], x0[i]].reshape(len(i), -1), pb)
    ok[i] = (there >= MOVED_NCC) & (there >= here + MOVED_GAIN)
    return ok


def _ncc_rows(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    p = p - p.mean(axis=1, keepdims=True)
    q = q - q.mean(axis=1, keepdims=True)
    return np.einsum("ij,ij->i", p, q) / np.maximum(
        np.sqrt(np.einsum("ij,ij->i", p, p) * np.einsum("ij,ij->i", q, q)), 1e-9)


def _clustered(ys, xs, hidden, th: int, tw: int) -> float:
    """Of each hidden patch's textured neighbours (8 round it), the share hidden too, on
    average over the hidden patches: 1 for one hidden region, about the hidden share when
    they are scattered."""
    if not hidden.any():
        return 0.0
    grid_t = np.zeros((th + 2, tw + 2), np.float32)
    grid_h = np.zeros((th + 2, tw + 2), np.float32)
    grid_t[ys + 1, xs + 1] = 1
    grid_h[ys[hidden] + 1, xs[hidden] + 1] = 1
    k = np.ones((3, 3), np.float32)
    k[1, 1] = 0
    nt = cv2.filter2D(grid_t, -1, k, borderType=cv2.BORDER_CONSTANT)[ys[hidden] + 1, xs[hidden] + 1]
    nh = cv2.filter2D(grid_h, -1, k, borderType=cv2.BORDER_CONSTANT)[ys[hidden] + 1, xs[hidden] + 1]
    ok = nt > 0
    return float((nh[ok] / nt[ok]).mean()) if ok.any() else 0.0


def _coherent(moved, ys, xs, rx, ry, th, tw) -> np.ndarray:
    """Moved patches with a moved neighbour that moved alike (within STILL_PX): motion and
    parallax move regions; noise throws a patch's peak anywhere, one patch at a time."""
    out = np.zeros_like(moved)
    m = np.nonzero(moved)[0]
    if len(m) < 2:
        return out
    grid = np.full((th + 2, tw + 2), -1)  # a frame of -1 round it: no neighbour there
    grid[ys[m] + 1, xs[m] + 1] = m
    for dy, dx in ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)):
        near = grid[ys[m] + 1 + dy, xs[m] + 1 + dx]
        has = near >= 0
        j, i = near[has], m[has]
        out[i[np.hypot(rx[j] - rx[i], ry[j] - ry[i]) <= STILL_PX]] = True
    return out


# float32, as the patches are: the phase correlation runs in single precision (half the FFT
# time of double; its peaks and their sub-pixel places are far coarser than either)
_WINDOW = np.outer(np.hanning(TILE), np.hanning(TILE)).astype(np.float32)


def _design(x, y, quadratic: bool) -> np.ndarray:
    cols = [np.ones_like(x), x, y]
    if quadratic:
        cols += [x * x, x * y, y * y]
    return np.stack(cols, 1)


def _less_affine(x, y, dx, dy, ok, still_px, rounds: int = 3):
    """Offsets less the affine map through the ``ok`` ones (least squares, then again
    without those off by more than ``still_px``): what a slightly wrong fit leaves is no
    motion. Centred and scaled, so the fit is well conditioned."""
    use = ok.copy()
    rx, ry = dx, dy
    fit = None
    cx, cy = x.mean(), y.mean()
    sc = max(float(np.ptp(x)), float(np.ptp(y)), 1.0)
    X = _design((x - cx) / sc, (y - cy) / sc, False)
    for _ in range(rounds):
        if use.sum() < 6:
            break
        cx_, *_ = np.linalg.lstsq(X[use], dx[use], rcond=None)
        cy_, *_ = np.linalg.lstsq(X[use], dy[use], rcond=None)
        rx, ry = dx - X @ cx_, dy - X @ cy_
        fit = (cx_, cy_)
        use = ok & (np.hypot(rx, ry) <= still_px)
    return rx, ry, fit


def _smooth_field(x, y, rx, ry, use, weight) -> tuple[float, float]:
    """RMS over the patches of the quadratic field through the residual offsets (what no
    affine map explains: perspective, parallax), each patch weighted by how sharply it was
    found, and its standard error from the weighted scatter about it."""
    n = int(use.sum())
    if n < 48:
        return 0.0, 0.0
    wt = weight[use]
    sw = np.sqrt(wt)
    sc = max(float(np.ptp(x)), float(np.ptp(y)), 1.0)
    X = _design((x[use] - x[use].mean()) / sc, (y[use] - y[use].mean()) / sc, True)
    # overlapping patches share their pixels: about half as many independent offsets
    n_eff = float(wt.sum()) ** 2 / float((wt * wt).sum()) / 2
    rms2 = se2 = 0.0
    for r in (rx[use], ry[use]):
        coef, *_ = np.linalg.lstsq(X * sw[:, None], r * sw, rcond=None)
        model = X @ coef
        model -= float(model @ wt) / float(wt.sum())
        resid = r - X @ coef
        rms2 += float((model * model) @ wt) / float(wt.sum())
        var = float((resid * resid) @ wt) / float(wt.sum()) * n_eff / max(n_eff - 6, 1)
        se2 += var * 5 / n_eff  # 5 field terms' worth of that noise
    return math.sqrt(rms2), math.sqrt(se2)
