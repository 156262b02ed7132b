"""Real photos for tests: scikit-image's bundled samples and the edits a person makes.

A module of its own (not conftest) so that test files in any folder can import it.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

SAMPLES = ["astronaut", "coffee", "chelsea", "rocket", "stereo_motorcycle", "hubble_deep_field",
           "immunohistochemistry", "retina", "coins", "camera"]


def sample_images() -> dict[str, Image.Image]:
    import skimage.data

    out = {}
    for name in SAMPLES:
        a = getattr(skimage.data, name)()
        a = a[0] if isinstance(a, tuple) else a
        if a.ndim == 2:
            a = np.stack([a] * 3, axis=-1)
        out[name] = Image.fromarray(a[..., :3].astype(np.uint8)).convert("RGB")
    return out


def edits(img: Image.Image) -> dict[str, Image.Image]:
    """Edited copies a person makes: resize, crop, re-encode (saved as JPEG by the caller)."""
    w, h = img.size
    return {
        "resized": img.resize((w // 2, h // 2), Image.Resampling.LANCZOS),
        "cropped": img.crop((w // 10, h // 10, w - w // 10, h - h // 10)),
        "recompressed": img,
    }
