"""The demo library: a few public-domain photos and edited copies of them, for a first look.

The originals ship in ``resources/demo`` (see LICENSES.md there). ``materialise`` copies them
into ``<data dir>/demo-photos`` and makes edited copies (resized, cropped, recompressed,
rotated), so "Find similar" and "Duplicates" have something to show before the user adds a
folder of their own. No Qt here.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from PIL import Image

from photofinder.assets import demo_originals
from photofinder.paths import data_dir

EDITED = ("astronaut", "coffee", "chelsea", "rocket")  # the ones that get edited copies
MARKER = ".photofinder-demo"


def demo_folder() -> Path:
    return data_dir() / "demo-photos"


def originals() -> list[Path]:
    return demo_originals()


def is_demo_folder(path: str | os.PathLike) -> bool:
    p = Path(path)
    return p == demo_folder() or (p / MARKER).exists()


def _edits(img: Image.Image) -> dict[str, tuple[Image.Image, int]]:
    w, h = img.size
    return {
        "resized": (img.resize((w // 2, h // 2), Image.Resampling.LANCZOS), 88),
        "cropped": (img.crop((w // 8, h // 8, w - w // 8, h - h // 8)), 88),
        "recompressed": (img, 45),
        "rotated": (img.transpose(Image.Transpose.ROTATE_90), 70),
    }


def materialise(folder: str | os.PathLike | None = None) -> Path:
    """Write the demo photos (originals + edited copies) into ``folder``; idempotent."""
    folder = Path(folder) if folder else demo_folder()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("photofinder demo photos; safe to delete\n")
    edited = folder / "edited"
    edited.mkdir(exist_ok=True)
    for src in originals():
        dst = folder / src.name
        if not dst.exists():
            shutil.copyfile(src, dst)
        if src.stem not in EDITED:
            continue
        with Image.open(src) as im:
            img = im.convert("RGB")
        for kind, (copy, quality) in _edits(img).items():
            out = edited / f"{src.stem}-{kind}.jpg"
            if not out.exists():
                copy.save(out, quality=quality)
    return folder


def remove(folder: str | os.PathLike | None = None) -> None:
    """Delete the materialised demo photos (they are ours, copied from resources)."""
    folder = Path(folder) if folder else demo_folder()
    if (folder / MARKER).exists():
        shutil.rmtree(folder, ignore_errors=True)
