"""Copies and new shots made from real photos, for the duplicates tests and benchmarks.

- ``combined_edits``: edits a person combines on one picture (crop + border, rotation + crop,
  a 90° turn saved again at low quality, grey + crop, an off-centre crop, a white border);
  ``QUALITY`` says at which JPEG quality each is saved.
- ``burst``: another exposure of the same scene, rendered from a real photo: the camera moved
  a little (shift, zoom, a slight turn), the depth makes a smooth parallax field, one region
  moves on its own (a moving subject), and fresh sensor noise. What a burst frame is, and a
  copy never is: regions that disagree after lining up.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageOps

T = Image.Transpose
QUALITY = {"turn90-q40": 40}


def _crop(img: Image.Image, f: float, cx: float = 0.5, cy: float = 0.5) -> Image.Image:
    w, h = img.size
    cw, ch = int(w * f), int(h * f)
    x0, y0 = int((w - cw) * cx), int((h - ch) * cy)
    return img.crop((x0, y0, x0 + cw, y0 + ch))


def _border(img: Image.Image, f: float, fill=(255, 255, 255)) -> Image.Image:
    return ImageOps.expand(img, border=max(2, int(max(img.size) * f)), fill=fill)


def _rotate_crop(img: Image.Image, deg: float, f: float) -> Image.Image:
    r = img.rotate(deg, Image.Resampling.BICUBIC, expand=False)
    return _crop(r, f)


def combined_edits(img: Image.Image) -> dict[str, Image.Image]:
    img = img.convert("RGB")
    w, h = img.size
    return {
        "crop-border": _border(_crop(img, 0.8, 0.3, 0.6), 0.08),
        "rotate-crop": _rotate_crop(img, 4.0, 0.8),
        "turn90-q40": img.transpose(T.ROTATE_90),
        "grey-crop": ImageOps.grayscale(_crop(img, 0.75, 0.6, 0.4)).convert("RGB"),
        "offcentre-crop70": _crop(img, 0.7, 0.9, 0.1),
        "border8": _border(img, 0.08),
        "half": img.resize((w // 2, h // 2), Image.Resampling.LANCZOS),
        "mirror": img.transpose(T.FLIP_LEFT_RIGHT),
    }


def burst(img: Image.Image, seed: int = 0) -> Image.Image:
    """Another exposure of the scene in ``img`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    a = np.asarray(img.convert("RGB"), np.float32)
    h, w = a.shape[:2]
    side = max(h, w)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # camera: a slight zoom, turn and shift about the centre
    zoom = 1.0 + rng.uniform(0.01, 0.05)
    ang = np.radians(rng.uniform(-1.0, 1.0))
    sx, sy = rng.uniform(-0.02, 0.02, 2) * side
    cx, cy = w / 2, h / 2
    x0, y0 = (xx - cx) / zoom, (yy - cy) / zoom
    mx = cx + np.cos(ang) * x0 - np.sin(ang) * y0 + sx
    my = cy + np.sin(ang) * x0 + np.cos(ang) * y0 + sy
    # parallax: a smooth displacement field (nearer things move more)
    coarse = rng.normal(0, 0.008 * side, (2, 4, 4)).astype(np.float32)
    for i, m in enumerate((mx, my)):
        m += cv2.resize(coarse[i], (w, h), interpolation=cv2.INTER_CUBIC)
    # a moving subject: a region displaced on its own
    rx, ry = rng.uniform(0.25, 0.75) * w, rng.uniform(0.25, 0.75) * h
    rad = rng.uniform(0.12, 0.2) * side
    wgt = np.exp(-(((xx - rx) ** 2 + (yy - ry) ** 2) / (2 * rad ** 2)))
    dx, dy = rng.uniform(0.03, 0.06, 2) * side * rng.choice([-1, 1], 2)
    mx = mx + wgt * dx
    my = my + wgt * dy
    out = cv2.remap(a, mx.astype(np.float32), my.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    out += rng.normal(0, rng.uniform(3, 6), out.shape).astype(np.float32)  # fresh noise
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))


def pan(img: Image.Image, degrees: float, seed: int) -> Image.Image:
    """Another exposure from a tripod: the camera turned ``degrees`` about its vertical axis
    (a homography, no parallax), the same framing size, fresh sensor-like noise."""
    a = np.asarray(img.convert("RGB"), np.float32)
    h, w = a.shape[:2]
    f = 1.2 * w  # a normal lens
    t = np.radians(degrees)
    K = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1]])
    R = np.array([[np.cos(t), 0, np.sin(t)], [0, 1, 0], [-np.sin(t), 0, np.cos(t)]])
    H = K @ R @ np.linalg.inv(K)
    out = cv2.warpPerspective(a, H, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    m = int(0.08 * min(w, h))  # the frame, less the edges a turned camera no longer sees
    out = out[m:h - m, m:w - m] + np.random.default_rng(seed).normal(0, 2.0, out[m:h - m, m:w - m].shape)
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))


def still_burst(img: Image.Image, seed: int = 0) -> Image.Image:
    """Another exposure from a tripod: the camera did not move, one subject did (a region
    displaced on its own, 4-8% of the picture's side), and fresh sensor noise."""
    rng = np.random.default_rng(seed)
    a = np.asarray(img.convert("RGB"), np.float32)
    h, w = a.shape[:2]
    side = max(h, w)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rx, ry = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
    rad = rng.uniform(0.1, 0.16) * side
    wgt = np.exp(-(((xx - rx) ** 2 + (yy - ry) ** 2) / (2 * rad ** 2)))
    dx, dy = rng.uniform(0.04, 0.08, 2) * side * rng.choice([-1, 1], 2)
    out = cv2.remap(a, (xx + wgt * dx).astype(np.float32), (yy + wgt * dy).astype(np.float32),
                    cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    out += rng.normal(0, rng.uniform(2, 4), out.shape).astype(np.float32)
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
