"""The model's input contract, in one place, shared by the exporter and the runtime.

RGB pixels with EXIF orientation already applied (imaging.py does that) are resized so the
LONGER side is ``LONG_SIDE`` pixels and both sides are multiples of ``STRIDE`` (the network's
total stride: every stride-2 layer then sees an even size, so TF-style "same" padding is a
fixed asymmetric pad and the exported graph is exact for every input size). Values are
float32 NCHW, ``(x - 127.5) / 127.5``.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

LONG_SIDE = 256
STRIDE = 32
MIN_SIDE = 64
MEAN = 127.5
SCALE = 127.5
RESIZE = "longer-side"

CONTRACT = {
    "colour": "RGB",
    "orientation": "EXIF applied",
    "resize": RESIZE,
    "long_side": LONG_SIDE,
    "multiple_of": STRIDE,
    "min_side": MIN_SIDE,
    "layout": "NCHW float32",
    "normalise": "(x - 127.5) / 127.5",
}


def _round_to_stride(v: float) -> int:
    return max(MIN_SIDE, int(round(v / STRIDE)) * STRIDE)


def target_size(width: int, height: int, long_side: int | None = None) -> tuple[int, int]:
    """(width, height) the model sees for a picture of the given size."""
    long_side = long_side or LONG_SIDE
    if width >= height:
        return long_side, _round_to_stride(long_side * height / max(width, 1))
    return _round_to_stride(long_side * width / max(height, 1)), long_side


def resize_for_model(img: Image.Image, long_side: int | None = None) -> Image.Image:
    """Resize an RGB image to the model's input size (antialiased)."""
    size = target_size(*img.size, long_side)
    if img.size == size:
        return img
    return img.resize(size, Image.Resampling.BILINEAR, reducing_gap=None)


def to_array(img: Image.Image) -> np.ndarray:
    """An RGB image already at model size -> float32 CHW array."""
    a = np.asarray(img, dtype=np.float32)
    a = (a - MEAN) / SCALE
    return np.ascontiguousarray(a.transpose(2, 0, 1))


def prepare(img: Image.Image, long_side: int | None = None) -> np.ndarray:
    """RGB image of any size -> the model's float32 CHW input (``long_side``: only for
    measuring other input sizes; the library uses the contract's)."""
    return to_array(resize_for_model(img.convert("RGB") if img.mode != "RGB" else img,
                                     long_side))
