"""Open any supported picture safely: RGB pixels (orientation applied) + metadata; thumbnails.

Every failure becomes an ``ImageError`` with a one-line reason for the user; nothing here
raises anything else for bad input. Decoding happens from bytes already read (the same bytes
are hashed), so a file is read once.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

try:  # HEIC/HEIF/AVIF, when pillow-heif is installed
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - optional
    pillow_heif = None

MAX_PIXELS = 250_000_000  # refuse declared sizes above this before decoding
MAX_FILE_BYTES = 1 << 30
MAX_ASPECT = 50
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

EXTENSIONS = frozenset(
    ".jpg .jpeg .jpe .jfif .png .webp .tif .tiff .gif .bmp .dib .heic .heif .avif .mpo "
    ".pgm .pbm .ppm .pnm .svg .cr2 .cr3 .nef .arw .dng .raf .orf .rw2".split())

ORIENTATION_TAG = 0x0112
EXIF_IFD = 0x8769
DATETIME_ORIGINAL = 0x9003
DATETIME = 0x0132
_SRGB = None


class ImageError(Exception):
    """A file that cannot be used, with a one-line reason."""


@dataclass
class Decoded:
    image: Image.Image  # RGB, orientation applied, reduced to about what was asked for
    width: int  # full size, as displayed (orientation applied)
    height: int
    orientation: int = 1
    taken_at: str | None = None
    format: str | None = None
    meta: dict = field(default_factory=dict)


def is_candidate(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in EXTENSIONS


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_bytes(path: str | os.PathLike) -> bytes:
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise ImageError(f"file too large ({size >> 20} MiB)")
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise ImageError("file vanished before it could be read") from None
    except PermissionError:
        raise ImageError("permission denied") from None
    except IsADirectoryError:
        raise ImageError("is a folder, not a file") from None
    except OSError as e:
        raise ImageError(f"cannot read file: {e.strerror or e}") from None
    if not data:
        raise ImageError("empty file (0 bytes)")
    return data


def _sniff_reason(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if head.startswith(b"<?xml") or head.startswith(b"<svg") or b"<svg" in head:
        return "SVG vector drawing, not a photo (not supported)"
    if head.startswith(b"<!doctype html") or head.startswith(b"<html"):
        return "an HTML page, not an image"
    return "not an image, or a format photofinder cannot read"


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError(_sniff_reason(data)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"image too large (over {MAX_PIXELS // 1_000_000} megapixels); refused") from None
    except Exception as e:  # Pillow plugins raise many types on bad headers
        raise ImageError(f"damaged image header ({_short(e)})") from None
    w, h = img.size
    if w < 1 or h < 1:
        raise ImageError(f"image has no pixels ({w}x{h})")
    if w * h > MAX_PIXELS:
        raise ImageError(f"image too large ({w}x{h} pixels, limit {MAX_PIXELS // 1_000_000} megapixels); refused")
    if max(w, h) / min(w, h) > MAX_ASPECT:
        raise ImageError(f"absurd aspect ratio ({w}x{h}); not a photo")
    return img


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:160]


def _exif_info(img: Image.Image) -> tuple[int, str | None]:
    try:
        exif = img.getexif()
    except Exception:
        return 1, None
    orientation = exif.get(ORIENTATION_TAG, 1)
    if not isinstance(orientation, int) or not 1 <= orientation <= 8:
        orientation = 1
    taken = None
    try:
        taken = exif.get_ifd(EXIF_IFD).get(DATETIME_ORIGINAL) or exif.get(DATETIME)
    except Exception:
        taken = exif.get(DATETIME)
    if isinstance(taken, bytes):
        taken = taken.decode("ascii", "replace")
    taken = taken.strip("\x00 ") if isinstance(taken, str) else None
    if not taken or taken.startswith("0000"):
        taken = None
    return orientation, taken


def _to_srgb(img: Image.Image) -> Image.Image:
    """Apply an embedded ICC profile (to sRGB) when there is one; ignore broken profiles."""
    global _SRGB
    icc = img.info.get("icc_profile")
    if not icc or img.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return img
    try:
        if _SRGB is None:
            _SRGB = ImageCms.createProfile("sRGB")
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        out_mode = "RGBA" if img.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(img, src, _SRGB, outputMode=out_mode)
    except Exception:
        return img


def to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB; transparency composited on white; deep modes scaled."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        if mode.startswith("I;16"):
            a = a / 257.0
        else:
            lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
            if mode == "F" and 0.0 <= lo and hi <= 1.0:
                a = a * 255.0
            elif hi > 255 or lo < 0:
                a = (a - lo) * (255.0 / max(hi - lo, 1e-9))
        a = np.nan_to_num(a).clip(0, 255).astype(np.uint8)
        return Image.fromarray(a, "L").convert("RGB")
    if mode in ("P", "PA") or (mode in ("L", "RGB") and "transparency" in img.info):
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode in ("LA", "La", "RGBA", "RGBa"):
        img = img.convert("RGBA")
        bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, img).convert("RGB")
    if mode == "LAB":
        return ImageCms.applyTransform(img, ImageCms.buildTransform(
            ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB"))
    if mode == "HSV":
        return Image.fromarray(np.asarray(img), "HSV").convert("RGB")
    return img.convert("RGB")


def decode(data: bytes, need: int = 512) -> Decoded:
    """Bytes -> RGB image whose shorter side is about ``need`` or more (JPEG draft mode)."""
    img = _open(data)
    try:
        fmt = img.format
        orientation, taken = _exif_info(img)
        full_w, full_h = img.size
        if fmt == "JPEG" and need:
            img.draft("RGB" if img.mode in ("RGB", "YCbCr") else img.mode, (need, need))
        img.load()
        if getattr(img, "is_animated", False) or getattr(img, "n_frames", 1) > 1:
            img.seek(0)
        img = _to_srgb(img)
        img = to_rgb(img)
        img = _apply_orientation(img, orientation)
        if orientation in (5, 6, 7, 8):
            full_w, full_h = full_h, full_w
        if need and max(img.size) > 2 * need and fmt != "JPEG":
            img.thumbnail((2 * need, 2 * need), Image.Resampling.BILINEAR, reducing_gap=2.0)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"image too large (over {MAX_PIXELS // 1_000_000} megapixels); refused") from None
    except MemoryError:
        raise ImageError("out of memory decoding this image") from None
    except Exception as e:
        raise ImageError(f"truncated or damaged image data ({_short(e)})") from None
    return Decoded(img, full_w, full_h, orientation, taken, fmt)


_TRANSPOSE = {
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_270],
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_90],
}


def _apply_orientation(img: Image.Image, orientation: int) -> Image.Image:
    for op in _TRANSPOSE.get(orientation, []):
        img = img.transpose(op)
    return img


def load(path: str | os.PathLike, need: int = 512) -> tuple[Decoded, str, int]:
    """Read, hash and decode a file: (decoded, content hash, size in bytes)."""
    data = read_bytes(path)
    return decode(data, need), content_hash(data), len(data)


def thumbnail(path: str | os.PathLike, size: int = 256) -> Image.Image:
    """An RGB thumbnail whose longer side is ``size``, orientation applied."""
    decoded = decode(read_bytes(path), need=size)
    img = decoded.image
    img.thumbnail((size, size), Image.Resampling.LANCZOS)
    return img
