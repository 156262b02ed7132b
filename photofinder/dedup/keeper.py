"""Which copy to keep, and why, by rules the user can reorder or switch off.

Rules, in the default order (the first that tells the copies apart decides):
``pixels`` (most pixels), ``format`` (RAW > HEIC/AVIF > TIFF/PNG and other lossless > JPEG >
WebP/GIF, then the fewest compression artefacts: most bytes per pixel within a format; a
lossless file the same size as a JPEG of the group counts as that JPEG, since converting a
JPEG to PNG adds nothing: the JPEG is the original),
``exif`` (richer EXIF), ``oldest`` (earliest capture date), ``folder`` (inside a preferred
folder, then the shortest path).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from PIL import Image

DEFAULT_RULES = ["pixels", "format", "exif", "oldest", "folder"]
FORMAT_RANK = {"RAW": 6, "DNG": 6, "HEIF": 5, "HEIC": 5, "AVIF": 5, "TIFF": 4, "PNG": 4,
               "BMP": 3, "PPM": 3, "JPEG": 2, "MPO": 2, "WEBP": 1, "GIF": 0}
RAW_EXT = {".cr2", ".cr3", ".nef", ".arw", ".dng", ".raf", ".orf", ".rw2"}


@dataclass
class Rules:
    order: list[str] = field(default_factory=lambda: list(DEFAULT_RULES))
    preferred_folders: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"order": self.order, "preferred_folders": self.preferred_folders}

    @classmethod
    def from_dict(cls, d: dict | None) -> "Rules":
        d = d or {}
        order = [r for r in d.get("order", DEFAULT_RULES) if r in DEFAULT_RULES]
        return cls(order or list(DEFAULT_RULES), list(d.get("preferred_folders", [])))


def exif_richness(path: str) -> int:
    """How many EXIF tags the file carries (0 when unreadable)."""
    try:
        with Image.open(path) as img:
            exif = img.getexif()
            n = len(exif)
            for ifd in (0x8769, 0x8825):
                try:
                    n += len(exif.get_ifd(ifd))
                except Exception:
                    pass
            return n
    except Exception:
        return 0


STD_LUMA_MEAN = 57.625  # mean of the IJG standard luminance quantisation table (quality 50)


def jpeg_quality(path: str) -> int | None:
    """Estimated JPEG quality (1-100) from the luminance quantisation table; None if unknown.
    A better 'least compressed' measure between JPEGs than bytes per pixel, which a CMYK or
    a metadata-heavy file inflates."""
    try:
        with Image.open(path) as img:
            table = (getattr(img, "quantization", None) or {}).get(0)
    except Exception:
        return None
    if not table:
        return None
    scale = 100.0 * (sum(table) / len(table)) / STD_LUMA_MEAN
    q = (200.0 - scale) / 2.0 if scale <= 100 else 5000.0 / scale
    return max(1, min(100, round(q)))


def _format(m: dict) -> str:
    if os.path.splitext(m["path"])[1].lower() in RAW_EXT:
        return "RAW"
    return (m.get("format") or "?").upper()


def _in_preferred(path: str, folders: list[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


LOSSY = {"JPEG", "MPO"}
LOSSLESS_RANKS = (3, 4)


def _pixels(m: dict) -> int:
    return (m.get("width") or 0) * (m.get("height") or 0)


def _mark_conversions(members: list[dict]) -> None:
    """A lossless file with as many pixels as a JPEG of the group is a conversion of it."""
    lossy_px = {_pixels(m) for m in members if _format(m) in LOSSY}
    for m in members:
        m["converted"] = (FORMAT_RANK.get(_format(m), 2) in LOSSLESS_RANKS
                          and _pixels(m) in lossy_px)


def _key(m: dict, rule: str, rules: Rules):
    px = _pixels(m)
    if rule == "pixels":
        return px
    if rule == "format":
        if m.get("converted"):
            return (FORMAT_RANK["JPEG"], -1.0)
        if m.get("jpeg_quality") is not None:
            return (FORMAT_RANK["JPEG"], float(m["jpeg_quality"]))
        return (FORMAT_RANK.get(_format(m), 2), round(m.get("size", 0) * 8 / max(px, 1), 1))
    if rule == "exif":
        return m.get("exif_tags", 0)
    if rule == "oldest":
        t = m.get("taken_at")
        return (1, _neg(t)) if t else (0, "")
    if rule == "folder":
        return (_in_preferred(m["path"], rules.preferred_folders), -len(m["path"]))
    raise ValueError(rule)


def _neg(s: str) -> str:
    return "".join(chr(0x10FFFF - ord(c)) for c in s)  # the earliest date sorts highest


def _reason(m: dict, rule: str, rules: Rules) -> str:
    if rule == "pixels":
        px = m["width"] * m["height"]
        return f"most pixels: {m['width']}x{m['height']} ({px / 1e6:.1f} MP)"
    if rule == "format":
        if m.get("jpeg_quality") is not None:
            return f"least compressed: JPEG quality {m['jpeg_quality']}"
        bpp = m.get("size", 0) * 8 / max(m["width"] * m["height"], 1)
        return f"best format / least compressed: {_format(m)}, {bpp:.1f} bits per pixel"
    if rule == "exif":
        return f"richest metadata: {m.get('exif_tags', 0)} EXIF tags"
    if rule == "oldest":
        return f"oldest capture: {m.get('taken_at')}"
    if _in_preferred(m["path"], rules.preferred_folders):
        return "in a preferred folder, shortest path"
    return "shortest path"


def choose(members: list[dict], rules: Rules) -> tuple[dict, list[str]]:
    """The member to keep and the reasons (the rules that set it apart, in order)."""
    if any("exif_tags" not in m for m in members) and "exif" in rules.order:
        for m in members:
            m.setdefault("exif_tags", exif_richness(m["path"]))
    _mark_conversions(members)
    if "format" in rules.order:
        for m in members:
            if "jpeg_quality" not in m:
                m["jpeg_quality"] = jpeg_quality(m["path"]) if _format(m) in LOSSY else None
    pool = list(members)
    reasons: list[str] = []
    for rule in rules.order:
        keys = [_key(m, rule, rules) for m in pool]
        best = max(keys)
        winners = [m for m, k in zip(pool, keys) if k == best]
        if len(winners) < len(pool):
            reasons.append(_reason(winners[0], rule, rules))
        pool = winners
        if len(pool) == 1:
            break
    pool.sort(key=lambda m: m["path"])
    if not reasons:
        reasons.append("all copies equal by every rule: first by path")
    return pool[0], reasons
