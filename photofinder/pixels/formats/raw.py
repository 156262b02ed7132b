"""Camera RAW (CR2, CR3, NEF, ARW, DNG, RAF, ORF, RW2, ...) through rawpy (LibRaw).

The embedded preview JPEG is used when it is big enough for what is asked (fast: no
demosaicing), otherwise a half-size postprocess. Returns what the loader needs; the loader
decodes the preview JPEG with its own safe pipeline and applies the orientation.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from photofinder.pixels.formats import ImageError

# LibRaw's ``flip`` (dcraw bits) -> EXIF orientation (inverse of dcraw's "50132467" table)
_FLIP_TO_EXIF = {0: 1, 1: 2, 3: 3, 2: 4, 4: 5, 6: 6, 7: 7, 5: 8}


@dataclass
class RawPicture:
    width: int  # full sensor image size, as displayed (orientation applied)
    height: int
    orientation: int  # EXIF orientation the camera recorded
    preview_jpeg: bytes | None = None  # embedded JPEG to decode (orientation NOT applied)
    pixels: np.ndarray | None = None  # HxWx3 uint8, as stored (orientation NOT applied)
    source: str = "demosaic"  # or "preview": the camera's embedded preview was used


def _rawpy():
    try:
        import rawpy
    except ImportError:  # pragma: no cover - rawpy is a dependency
        raise ImageError("camera RAW file, but rawpy is not installed") from None
    return rawpy


def read(data: bytes, kind: str, need: int, max_pixels: int) -> RawPicture:
    """Open RAW bytes. ``need``: the longer side the caller wants at least (0: full size, so
    the sensor data is always demosaiced)."""
    rawpy = _rawpy()
    try:
        raw = rawpy.imread(io.BytesIO(data))
    except (rawpy.LibRawError, ValueError, OSError) as e:
        raise ImageError(f"{kind} camera RAW file is damaged or not supported "
                         f"({type(e).__name__})") from None
    with raw:
        try:
            s = raw.sizes
            if s.raw_width * s.raw_height > max_pixels or s.width * s.height > max_pixels:
                raise ImageError(f"image too large ({s.width}x{s.height} pixels, limit "
                                 f"{max_pixels // 1_000_000} megapixels); refused")
            if s.width < 1 or s.height < 1:
                raise ImageError(f"{kind} camera RAW file has no image data")
            orientation = _FLIP_TO_EXIF.get(s.flip, 1)
            w, h = (s.height, s.width) if orientation >= 5 else (s.width, s.height)
            pic = RawPicture(w, h, orientation)
            _preview(raw, rawpy, pic, need)
            if pic.preview_jpeg is None and pic.pixels is None:
                # demosaic at half size: plenty for similarity, 4x less work
                pic.pixels = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8,
                                             user_flip=0)
            return pic
        except ImageError:
            raise
        except MemoryError:
            raise ImageError("out of memory decoding this RAW file") from None
        except Exception as e:  # LibRawError subclasses and friends
            raise ImageError(f"{kind} camera RAW data is damaged or not supported "
                             f"({type(e).__name__})") from None


def _preview(raw, rawpy, pic: RawPicture, need: int) -> None:
    """Use the embedded preview when it is at least ``need`` on its longer side."""
    try:
        thumb = raw.extract_thumb()
    except Exception:  # no preview, or an unsupported preview format
        return
    if thumb.format == rawpy.ThumbFormat.JPEG and isinstance(thumb.data, bytes):
        if need and _jpeg_long_side(thumb.data) >= need:
            pic.preview_jpeg, pic.source = thumb.data, "preview"
    elif thumb.format == rawpy.ThumbFormat.BITMAP:
        a = np.asarray(thumb.data)
        if a.ndim == 3 and a.shape[2] == 3 and a.dtype == np.uint8 and (
                need and max(a.shape[:2]) >= need):
            pic.pixels, pic.source = a, "preview"


def _jpeg_long_side(data: bytes) -> int:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            return max(im.size)
    except Exception:
        return 0

