"""Any Pillow colour mode -> 8-bit sRGB: embedded ICC profiles applied, transparency on white,
deep (16-bit, 32-bit, float) images scaled, palettes expanded."""

from __future__ import annotations

import hashlib
import io

import numpy as np
from PIL import Image, ImageCms

from photofinder.pixels.formats import ImageError

_SRGB: ImageCms.ImageCmsProfile | None = None
_TRANSFORMS: dict[tuple[bytes, str, str], ImageCms.ImageCmsTransform] = {}  # a library has few distinct profiles
DEEP = ("I;16", "I;16B", "I;16L", "I;16N", "I;16S", "I;16BS", "I;32", "I;32B", "I", "F",
         "F;32BF")


def to_srgb(img: Image.Image) -> Image.Image:
    """Apply an embedded ICC profile (to sRGB) when there is one; ignore broken profiles."""
    global _SRGB
    icc = img.info.get("icc_profile")
    if not icc or img.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return img
    out_mode = "RGBA" if img.mode == "RGBA" else "RGB"
    key = (hashlib.blake2b(icc, digest_size=16).digest(), img.mode, out_mode)
    try:
        transform = _TRANSFORMS.get(key)
        if transform is None:
            if _SRGB is None:
                _SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            transform = ImageCms.buildTransform(src, _SRGB, img.mode, out_mode)
            if len(_TRANSFORMS) > 64:
                _TRANSFORMS.clear()
            _TRANSFORMS[key] = transform
        return transform.apply(img)  # (applyTransform's own path, typed: never None)
    except Exception:  # a damaged or mismatched profile: show the pixels as they are
        return img


def deep_to_l(img: Image.Image) -> Image.Image:
    """A deep (16-bit, 32-bit, float) image as 8-bit grey: 16-bit by its fixed scale, wider
    ones by their range. Works in float32 (a picture this big is reduced before it gets
    here, band by band: imaging._reduce_in_bands)."""
    if img.mode.startswith("I;16"):
        a = np.asarray(img).astype(np.uint32)
        if a.size == 0:
            raise ImageError("image has no pixels")
        return Image.fromarray((a // 257).astype(np.uint8), "L")
    a = np.array(img, dtype=np.float32)  # a copy of its own, scaled in place
    if a.size == 0:
        raise ImageError("image has no pixels")
    finite = np.isfinite(a)
    lo, hi = (float(a[finite].min()), float(a[finite].max())) if finite.any() else (0.0, 0.0)
    if img.mode.startswith("F") and 0.0 <= lo and hi <= 1.0:
        a *= 255.0  # normalised floats
    elif 0.0 <= lo and hi <= 255.0:
        pass  # 8-bit values in a wide container
    elif 0.0 <= lo and hi <= 65535.0 and not img.mode.startswith("F"):
        a /= 257.0  # 16-bit values in a 32-bit container
    else:
        a -= lo  # arbitrary range: stretch
        a *= 255.0 / max(hi - lo, 1e-9)
    a = np.nan_to_num(a, nan=0.0, posinf=255.0, neginf=0.0)
    return Image.fromarray(np.clip(a, 0, 255, out=a).astype(np.uint8), "L")


def to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB; transparency composited on white; deep modes scaled."""
    mode = img.mode
    if mode == "RGB" and "transparency" not in img.info:
        return img
    if mode in DEEP:
        return deep_to_l(img).convert("RGB")
    if mode in ("P", "PA") or (mode in ("1", "L", "RGB") and "transparency" in img.info):
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode == "La":  # premultiplied grey + alpha: Pillow has no conversion for it
        a = np.asarray(img, dtype=np.float64)
        alpha = a[..., 1:2]
        grey = np.where(alpha > 0, a[..., :1] * 255.0 / np.maximum(alpha, 1), 0)
        la = np.concatenate([grey, alpha], axis=2).clip(0, 255).astype(np.uint8)
        img, mode = Image.fromarray(la, "LA"), "LA"
    if mode in ("LA", "RGBA", "RGBa"):
        img = img.convert("RGBA")
        bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, img).convert("RGB")
    if mode == "LAB":
        return ImageCms.buildTransform(ImageCms.createProfile("LAB"),
                                       ImageCms.createProfile("sRGB"), "LAB", "RGB").apply(img)
    try:
        return img.convert("RGB")
    except (ValueError, OSError) as e:
        raise ImageError(f"unsupported colour mode {mode} ({e})") from None
