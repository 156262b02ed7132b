"""The edits people make to a photo, by family, for the duplicates benchmark and tests.

Every edit leaves the content where it was (a copy is the same exposure) or moves all of it
at once (geometry). Four families, as issue 20 lists them:
- ``tone``: exposure, contrast, curves/gamma, saturation, white balance, vignette, black and
  white, sepia, "filter" looks, local contrast (HDR-like). Deliberate edits: a user often
  wants them, so they are never pre-selected for the trash.
- ``degrade``: noise (three levels), blur, sharpening, JPEG and WebP down to quality 20,
  banding, a thumbnail of about 96 px. Damage.
- ``overlay``: watermarks (text or a logo, opaque or semi-transparent, corner or centre),
  captions, date stamps, stickers/emoji, frames and borders of any colour, letterboxing.
  Damage.
- ``geometry``: crop, border, quarter turn, mirror, resize, slight rotation + crop.

``EDITS``: name -> (family, function(img, rng) -> img). ``SAVE``: how an edit saves (format,
quality); the others save as JPEG at ``DEFAULT_QUALITY``. ``apply(img, names, rng)`` runs
several edits in order and says how to save the result (the lowest quality asked for).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

T = Image.Transpose
DEFAULT_QUALITY = 90


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, size))


def _side(img: Image.Image) -> int:
    return max(img.size)


# -- tone and colour ------------------------------------------------------------------------
def _lut(img: Image.Image, f) -> Image.Image:
    x = np.arange(256, dtype=np.float32)
    table = np.clip(f(x), 0, 255).astype(np.uint8).tolist()
    return img.point(table * 3)


def brightness(img, rng):
    return ImageEnhance.Brightness(img).enhance(rng.choice([0.7, 1.3]))


def contrast(img, rng):
    return ImageEnhance.Contrast(img).enhance(rng.choice([0.65, 1.45]))


def gamma(img, rng):
    g = rng.choice([0.6, 1.6])
    return _lut(img, lambda x: 255 * (x / 255) ** g)


def curves(img, rng):  # an S curve
    return _lut(img, lambda x: 255 / (1 + np.exp(-(x - 128) / 36)))


def saturation(img, rng):
    return ImageEnhance.Color(img).enhance(rng.choice([0.4, 1.8]))


def white_balance(img, rng):
    a = np.asarray(img, np.float32)
    gains = np.array([1.15, 1.0, 0.82] if rng.random() < 0.5 else [0.85, 1.0, 1.18], np.float32)
    return Image.fromarray(np.clip(a * gains, 0, 255).astype(np.uint8))


def vignette(img, rng):
    a = np.asarray(img, np.float32)
    h, w = a.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot((xx - w / 2) / (w / 2), (yy - h / 2) / (h / 2)) / np.sqrt(2)
    return Image.fromarray(np.clip(a * (1 - 0.6 * r ** 2)[..., None], 0, 255).astype(np.uint8))


def black_white(img, rng):
    return ImageOps.grayscale(img).convert("RGB")


def sepia(img, rng):
    g = np.asarray(ImageOps.grayscale(img), np.float32)
    tint = np.stack([g * 1.07 + 20, g * 0.95 + 8, g * 0.75], -1)
    return Image.fromarray(np.clip(tint, 0, 255).astype(np.uint8))


def filter_look(img, rng):
    """An app's filter: per-channel curves, faded blacks, a tint."""
    a = np.asarray(img, np.float32) / 255
    kind = rng.integers(3)
    if kind == 0:  # warm fade
        out = np.stack([0.1 + 0.9 * a[..., 0] ** 0.85, 0.08 + 0.85 * a[..., 1], 0.12 + 0.7 * a[..., 2]], -1)
    elif kind == 1:  # cool, cross-processed
        out = np.stack([a[..., 0] ** 1.3, a[..., 1] ** 0.9, 0.15 + 0.85 * a[..., 2] ** 0.7], -1)
    else:  # punchy: contrast and saturation up
        m = a.mean(-1, keepdims=True)
        out = 0.5 + 1.3 * (m + 1.4 * (a - m) - 0.5)
    return Image.fromarray(np.clip(out * 255, 0, 255).astype(np.uint8))


def hdr_look(img, rng):
    """Local contrast (what 'HDR' and 'clarity' do): CLAHE on the lightness."""
    import cv2

    lab = cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2LAB)
    tiles = max(2, _side(img) // 120)
    lab[..., 0] = cv2.createCLAHE(3.0, (tiles, tiles)).apply(lab[..., 0])
    return Image.fromarray(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB))


# -- degradations -----------------------------------------------------------------------------
def _noise(img, rng, sigma):
    a = np.asarray(img, np.float32)
    return Image.fromarray(np.clip(a + rng.normal(0, sigma, a.shape), 0, 255).astype(np.uint8))


def noise_low(img, rng):
    return _noise(img, rng, 6)


def noise_mid(img, rng):
    return _noise(img, rng, 14)


def noise_high(img, rng):
    return _noise(img, rng, 28)


def blur(img, rng):
    return img.filter(ImageFilter.GaussianBlur(max(1.0, _side(img) * rng.uniform(0.002, 0.004))))


def sharpen(img, rng):
    return img.filter(ImageFilter.UnsharpMask(radius=max(1, _side(img) // 400), percent=160, threshold=2))


def jpeg_q20(img, rng):
    return img


def webp_q30(img, rng):
    return img


def banding(img, rng):
    return ImageOps.posterize(img, 4)


def thumbnail(img, rng):
    t = img.copy()
    t.thumbnail((96, 96), Image.Resampling.LANCZOS)
    return t


# -- overlays ---------------------------------------------------------------------------------
def _overlay(img, draw_fn) -> Image.Image:
    base = img.convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw_fn(ImageDraw.Draw(layer), base.size)
    return Image.alpha_composite(base, layer).convert("RGB")


def watermark_corner(img, rng):
    def draw(d, size):
        w, h = size
        f = _font(int(h * 0.06))
        d.text((int(w * 0.6), int(h * 0.88)), "© photo.example", font=f, fill=(255, 255, 255, 255),
               stroke_width=max(1, int(h * 0.004)), stroke_fill=(0, 0, 0, 255))
    return _overlay(img, draw)


def watermark_centre(img, rng):
    def draw(d, size):
        w, h = size
        f = _font(int(h * 0.14))
        d.text((w / 2, h / 2), "SAMPLE", font=f, anchor="mm", fill=(255, 255, 255, 110))
    return _overlay(img, draw)


def logo(img, rng):
    def draw(d, size):
        w, h = size
        r = int(min(w, h) * 0.09)
        cx, cy = int(w * 0.12), int(h * 0.14)
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(20, 90, 200, 150), outline=(255, 255, 255, 200),
                  width=max(1, r // 8))
        d.text((cx, cy), "PF", font=_font(r), anchor="mm", fill=(255, 255, 255, 220))
    return _overlay(img, draw)


def caption(img, rng):
    def draw(d, size):
        w, h = size
        d.rectangle((0, int(h * 0.86), w, h), fill=(0, 0, 0, 170))
        d.text((w / 2, int(h * 0.93)), "Summer holidays, day 3", font=_font(int(h * 0.06)),
               anchor="mm", fill=(255, 255, 255, 255))
    return _overlay(img, draw)


def date_stamp(img, rng):
    def draw(d, size):
        w, h = size
        d.text((int(w * 0.95), int(h * 0.95)), "'98 7 14", font=_font(int(h * 0.05)), anchor="rb",
               fill=(255, 140, 20, 255))
    return _overlay(img, draw)


def sticker(img, rng):
    def draw(d, size):
        w, h = size
        r = int(min(w, h) * 0.1)
        cx, cy = int(w * rng.uniform(0.2, 0.8)), int(h * rng.uniform(0.25, 0.75))
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 210, 40, 255), outline=(120, 80, 0, 255),
                  width=max(1, r // 10))
        e = max(1, r // 6)
        for sx in (-1, 1):
            d.ellipse((cx + sx * r // 3 - e, cy - r // 4 - e, cx + sx * r // 3 + e, cy - r // 4 + e),
                      fill=(40, 30, 0, 255))
        d.arc((cx - r // 2, cy - r // 3, cx + r // 2, cy + r // 2), 20, 160, fill=(40, 30, 0, 255),
              width=max(1, r // 8))
    return _overlay(img, draw)


def frame(img, rng):
    colours = [(255, 255, 255), (0, 0, 0), (180, 30, 40), (30, 60, 140), (200, 170, 120)]
    c = colours[rng.integers(len(colours))]
    b = max(2, int(_side(img) * rng.uniform(0.03, 0.08)))
    return ImageOps.expand(img, border=b, fill=c)


def letterbox(img, rng):
    """Black bars: above and below a landscape picture, beside a portrait one."""
    w, h = img.size
    size = (w, int(h * 1.3)) if w >= h else (int(w * 1.3), h)
    out = Image.new("RGB", size, (0, 0, 0))
    out.paste(img, ((size[0] - w) // 2, (size[1] - h) // 2))
    return out


# -- geometry ---------------------------------------------------------------------------------
def _crop(img, f, cx=0.5, cy=0.5):
    w, h = img.size
    cw, ch = int(w * f), int(h * f)
    x0, y0 = int((w - cw) * cx), int((h - ch) * cy)
    return img.crop((x0, y0, x0 + cw, y0 + ch))


def crop(img, rng):
    return _crop(img, rng.uniform(0.65, 0.85), rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9))


def border(img, rng):
    return ImageOps.expand(img, border=max(2, int(_side(img) * 0.06)), fill=(255, 255, 255))


def turn(img, rng):
    return img.transpose([T.ROTATE_90, T.ROTATE_180, T.ROTATE_270][rng.integers(3)])


def mirror(img, rng):
    return img.transpose(T.FLIP_LEFT_RIGHT)


def resize(img, rng):
    f = rng.choice([0.5, 0.66])
    return img.resize((max(1, round(img.width * f)), max(1, round(img.height * f))),
                      Image.Resampling.LANCZOS)


def rotate_crop(img, rng):
    deg = rng.choice([-1, 1]) * rng.uniform(2, 6)
    return _crop(img.rotate(deg, Image.Resampling.BICUBIC), 0.8)


EDITS = {
    **{f.__name__.replace("_", "-"): ("tone", f) for f in
       (brightness, contrast, gamma, curves, saturation, white_balance, vignette, black_white,
        sepia, filter_look, hdr_look)},
    **{f.__name__.replace("_", "-"): ("degrade", f) for f in
       (noise_low, noise_mid, noise_high, blur, sharpen, jpeg_q20, webp_q30, banding, thumbnail)},
    **{f.__name__.replace("_", "-"): ("overlay", f) for f in
       (watermark_corner, watermark_centre, logo, caption, date_stamp, sticker, frame, letterbox)},
    **{f.__name__.replace("_", "-"): ("geometry", f) for f in
       (crop, border, turn, mirror, resize, rotate_crop)},
}
FAMILIES = ["tone", "degrade", "overlay", "geometry"]
SAVE = {"jpeg-q20": ("JPEG", 20), "webp-q30": ("WEBP", 30)}
# a copy that carries an edit of these families is a deliberate edit (never pre-selected for
# the trash); the others are damage or geometry (pre-selected, as before)
DELIBERATE = {"tone"}


def family(name: str) -> str:
    return EDITS[name][0]


def apply(img: Image.Image, names: list[str], rng: np.random.Generator,
          quality: int = DEFAULT_QUALITY) -> tuple[Image.Image, str, int]:
    """The picture with ``names`` applied in order, and how to save it: (image, format,
    quality); a resave edit (JPEG q20, WebP) sets the format, the lowest quality wins."""
    out = img.convert("RGB")
    fmt = "JPEG"
    for n in names:
        out = EDITS[n][1](out, rng).convert("RGB")
        if n in SAVE:
            f, q = SAVE[n]
            fmt, quality = f, min(quality, q)
    return out, fmt, quality


def combos(rng: np.random.Generator, first: int, n_single: int, n_pair: int, n_triple: int,
           families: list[str] | None = None) -> list[list[str]]:
    """Edits for one source: ``n_single`` alone (the edits taken in turn from ``first``, so
    a set of sources meets each as often), then pairs and triples of edits from different
    families (a phone edit: crop + filter + resave; a repost: watermark + resize + WebP),
    each within ``families`` (all by default)."""
    fams = families or FAMILIES
    names = [n for n in EDITS if family(n) in fams]
    out = [[names[(first + j) % len(names)]] for j in range(n_single)]
    for k, count in ((2, n_pair), (3, n_triple)):
        if len(fams) < k:
            continue
        for _ in range(count):
            fs = rng.choice(fams, k, replace=False)
            out.append([str(rng.choice([n for n in names if family(n) == f])) for f in fs])
    return out
