"""Which copy to keep, and why, by rules the user can reorder or switch off.

Each rule is a small object (dupeGuru's core/prioritize.py is the model): a ``key`` (higher
is better), a ``tolerance`` (keys this close are one), and the ``reason`` shown to the user.
The user's own choice (by path) comes before any rule (groups.py). Then, in the default
order, the first rule that tells the copies apart decides, and the reasons name it:
1. ``folder``: inside a folder the user prefers (``--prefer-folder``);
2. ``consensus``: the copy the others agree with: lined up in one frame, the per-pixel
   median of three or more copies is the original's picture (each edit moves a copy away
   from it in its own direction), so the copies far from that median carry a caption,
   grain, blur, a tone or a frame the others have not (consensus.py; within
   ``CONSENSUS_REL`` times the closest plus ``CONSENSUS_ABS`` grey levels is as close: a
   crop, a mirror or a resize leaves the picture where it was, and the rules below tell
   those apart);
3. ``overlay``: no caption, watermark, sticker or date stamp: such an overlay hides part of
   the picture in every checked pair of its copy, while the copy without it has a pair that
   hides nothing (groups._links: the least hidden share over its pairs);
4. ``look``: the look not changed (tone, colour, black and white): a copy whose every
   checked pair changed the look is the edit; one pair with the same look clears it;
5. ``content``: more of the picture: the uncropped copy beats its crops; a uniform border
   adds nothing (the content each copy shows, measured in one frame through the checked
   pairs' geometry; equal within ``CONTENT_TOLERANCE``);
6. ``unspoiled``: no noise, blur or sharpening that another copy has not (each checked pair
   says which side lost detail or gained grain: verdict.py; the median over its pairs);
7. ``pixels``: more real pixels (the border left out);
8. ``camera``: camera metadata (make/model in EXIF) and the earliest capture (EXIF
   DateTimeOriginal; an editor's DateTime is when a copy was saved, not taken) beat
   stripped re-saves;
9. ``upright``: the way most copies show the picture beats a turned or mirrored copy of it
   (from the checked pairs' geometry; a tie says nothing);
10. ``border``: no added border, frame or letterbox (the most of the file is picture);
11. ``format``: RAW > HEIC/AVIF > TIFF/PNG and other lossless > JPEG > WebP/GIF, then
   clearly less compressed: JPEG qualities within ``QUALITY_TOLERANCE`` are one (a copy
   re-saved at 95 is no better than an original at 92; a camera's 96 beats a messenger's
   70); a lossless file with as many pixels as a JPEG of the group is a conversion of it
   and counts as that JPEG;
12. ``centre``: the copy closest to the group's median picture (``consensus`` without its
   tolerance), then the one the others were matched with most (each edit moves a copy away
   from the original in its own direction, so the original is the centre of the group);
13. ``compression``: the least compressed at all (JPEG quality, else bits per pixel);
14. ``place``: outside download, temporary, cache and export folders (where copies land);
15. ``oldest``: among byte-identical copies only, the photo the library has known longest
   (indexed first); between different files the order they were found says nothing.
Last, the shortest path. Byte-identical copies differ only by 14 and 15: a file in Downloads
or an export folder is the copy people make, wherever it sorts, so ``place`` comes first;
among the rest the one the library found first is where the user keeps the photo (a shorter
path says nothing of the kind).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from PIL import Image

from photofinder.pixels import imaging

DEFAULT_RULES = ["folder", "consensus", "overlay", "look", "content", "unspoiled", "pixels", "camera",
                 "upright", "border", "format", "centre", "compression", "place", "oldest"]
CONSENSUS_REL = 1.2  # distances from the group's median this close to the closest are one
CONSENSUS_ABS = 0.5  # ... plus this many grey levels (the noise of lining up 320-px greys)
OVERLAY_TOLERANCE = 0.02  # hidden shares this close are one (a pair's noise)
BORDER_TOLERANCE = 0.02  # shares of the file that is picture this close are one
QUALITY_TOLERANCE = 10  # JPEG qualities this close are one (a re-save at a higher quality)
BPP_TOLERANCE = 0.10  # bits per pixel this close (relative) are one
DAMAGE_TOLERANCE = 0.15  # damage shares this close are one
# folder names where copies land: downloads, temporary files, caches, exports
TRANSIENT = {"downloads", "download", "tmp", "temp", "cache", ".cache", "export", "exports",
             "exported", "telegram desktop", "whatsapp images"}
CONTENT_TOLERANCE = 0.04  # content areas this close are one picture
PIXELS_TOLERANCE = 0.02
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
        if "content" not in order:  # an order saved before the content rule existed
            order = list(DEFAULT_RULES)
        if "upright" not in order and "format" in order:  # saved before the upright rule
            order.insert(order.index("format"), "upright")
        saved = d.get("order") or []
        for new, after in (("unspoiled", "content"), ("place", "format"), ("oldest", "place"),
                           ("overlay", "folder"), ("look", "overlay"), ("border", "upright"),
                           ("centre", "format"), ("compression", "centre"),
                           ("consensus", "folder")):
            if new not in order and new not in saved:  # saved before the rule existed
                order.insert(order.index(after) + 1 if after in order else len(order), new)
        return cls(order, list(d.get("preferred_folders", [])))


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


def _transient(path: str) -> bool:
    parts = [p.lower() for p in os.path.dirname(path).split(os.sep)]
    return any(p in TRANSIENT or p.startswith(("tmp", "temp")) for p in parts)


class Rule:
    """One keeper rule: ``key`` (higher is better), ``tolerance`` (keys this close are one:
    relative, or absolute with ``absolute``), the ``reason`` words."""
    name = ""
    tolerance: float | None = None
    absolute = False

    def key(self, m: dict, rules: Rules):
        raise NotImplementedError

    def reason(self, m: dict, rules: Rules) -> str:
        raise NotImplementedError

    def winners(self, pool: list[dict], rules: Rules) -> list[dict]:
        keys = [self.key(m, rules) for m in pool]
        best = max(keys)
        if self.tolerance is None:
            return [m for m, k in zip(pool, keys) if k == best]
        if self.absolute:
            return [m for m, k in zip(pool, keys) if k >= best - self.tolerance]
        return [m for m, k in zip(pool, keys) if k >= best * (1 - self.tolerance)]


class Folder(Rule):
    name = "folder"

    def key(self, m, rules):
        return _in_preferred(m["path"], rules.preferred_folders)

    def reason(self, m, rules):
        return "in a preferred folder"


class Consensus(Rule):
    """Within ``CONSENSUS_REL`` x the closest + ``CONSENSUS_ABS`` of the group's median."""
    name = "consensus"

    def key(self, m, rules):
        return -float(m.get("consensus") or 0.0)

    def winners(self, pool, rules):
        far = [float(m.get("consensus") or 0.0) for m in pool]
        limit = min(far) * CONSENSUS_REL + CONSENSUS_ABS
        return [m for m, d in zip(pool, far) if d <= limit]

    def reason(self, m, rules):
        return ("the picture the copies agree on: each of the others differs from it by an "
                "edit of its own (a caption, grain, blur, a tone, a frame)")


class Content(Rule):
    name, tolerance = "content", CONTENT_TOLERANCE

    def key(self, m, rules):
        return float(m.get("content") or 0.0)

    def reason(self, m, rules):
        return "shows the most of the picture (the others are crops of it or show less)"


class Unspoiled(Rule):
    name, tolerance, absolute = "unspoiled", DAMAGE_TOLERANCE, True

    def key(self, m, rules):
        return -float(m.get("damage") or 0.0)

    def reason(self, m, rules):
        return "unspoiled: no noise, blur or sharpening that another copy has not"


class Pixels(Rule):
    name, tolerance = "pixels", PIXELS_TOLERANCE

    def key(self, m, rules):
        return float(m.get("real") or _pixels(m))

    def reason(self, m, rules):
        real = m.get("real") or _pixels(m)
        return f"most real pixels: {m['width']}x{m['height']} ({real / 1e6:.1f} MP of picture)"


class Camera(Rule):
    name = "camera"

    def key(self, m, rules):
        t = _shot_at(m)
        return (bool(m.get("camera")), (1, _neg(t)) if t else (0, ""))

    def reason(self, m, rules):
        if m.get("camera"):
            return "camera metadata" + (f", taken {_shot_at(m)}" if _shot_at(m) else "")
        return f"earliest capture: {_shot_at(m)}"


class Upright(Rule):
    name = "upright"

    def key(self, m, rules):
        return int(m.get("upright") or 0)

    def reason(self, m, rules):
        return "not turned or mirrored (as most copies)"


def _compression_key(m: dict) -> tuple:
    """(format rank, JPEG quality or bits per pixel): higher is better."""
    if m.get("converted"):
        return (FORMAT_RANK["JPEG"], -1.0)
    if m.get("jpeg_quality") is not None:
        return (FORMAT_RANK["JPEG"], float(m["jpeg_quality"]))
    return (FORMAT_RANK.get(_format(m), 2), round(m.get("size", 0) * 8 / max(_pixels(m), 1), 1))


def _compression_reason(m: dict) -> str:
    if m.get("jpeg_quality") is not None:
        return f"least compressed: JPEG quality {m['jpeg_quality']}"
    bpp = m.get("size", 0) * 8 / max(m["width"] * m["height"], 1)
    return f"best format / least compressed: {_format(m)}, {bpp:.1f} bits per pixel"


class Format(Rule):
    """The best format, then clearly less compressed: qualities within ``QUALITY_TOLERANCE``
    (bits per pixel within ``BPP_TOLERANCE``) are one."""
    name = "format"

    def key(self, m, rules):
        return _compression_key(m)

    def winners(self, pool, rules):
        keys = [self.key(m, rules) for m in pool]
        rank = max(k[0] for k in keys)
        pool = [m for m, k in zip(pool, keys) if k[0] == rank]
        keys = [k for k in keys if k[0] == rank]
        best = max(k[1] for k in keys)
        jpeg = any(m.get("jpeg_quality") is not None or m.get("converted") for m in pool)
        floor = best - QUALITY_TOLERANCE if jpeg else best * (1 - BPP_TOLERANCE)
        return [m for m, k in zip(pool, keys) if k[1] >= floor]

    def reason(self, m, rules):
        return _compression_reason(m).replace("least compressed", "clearly less compressed")


class Compression(Rule):
    name = "compression"

    def key(self, m, rules):
        return _compression_key(m)

    def reason(self, m, rules):
        return _compression_reason(m)


class Overlay(Rule):
    name, tolerance, absolute = "overlay", OVERLAY_TOLERANCE, True

    def key(self, m, rules):
        return -float(m.get("overlay") or 0.0)

    def reason(self, m, rules):
        return "no caption, watermark, sticker or stamp over the picture (another copy has one)"


class Look(Rule):
    name = "look"

    def key(self, m, rules):
        return not m.get("edited")

    def reason(self, m, rules):
        return "the look not changed: no tone, colour or black-and-white edit that the others show"


class Border(Rule):
    name, tolerance, absolute = "border", BORDER_TOLERANCE, True

    def key(self, m, rules):
        px = _pixels(m)
        return min(1.0, float(m.get("real") or px) / px) if px else 1.0

    def reason(self, m, rules):
        return "no added border, frame or letterbox"


class Centre(Rule):
    name = "centre"

    def key(self, m, rules):
        return (-round(float(m.get("consensus") or 0.0), 2), int(m.get("links") or 0),
                float(m.get("alike") or 0.0))

    def reason(self, m, rules):
        return ("the copy the others match most: each edit moves a copy away from the "
                "original in its own direction")


class Place(Rule):
    name = "place"

    def key(self, m, rules):
        return not _transient(m["path"])

    def reason(self, m, rules):
        return "outside download, temporary and export folders"


class Oldest(Rule):
    """Among byte-identical copies only: between different files, the order the library
    found them (often their names' order) says nothing of which is the original."""
    name = "oldest"

    def key(self, m, rules):
        return -int(m.get("id") or 0)  # photo ids grow as the library finds files

    def winners(self, pool, rules):
        if len({m.get("hash") for m in pool}) > 1:
            return pool
        return super().winners(pool, rules)

    def reason(self, m, rules):
        return "the copy the library has known longest"


RULES: dict[str, Rule] = {r.name: r for r in (
    Folder(), Consensus(), Overlay(), Look(), Content(), Unspoiled(), Pixels(), Camera(), Upright(),
    Border(),
    Format(), Centre(), Compression(), Place(), Oldest())}


def _neg(s: str) -> str:
    return "".join(chr(0x10FFFF - ord(c)) for c in s)  # the earliest date sorts highest


def _shot_at(m: dict) -> str | None:
    """The capture time read from the file (DateTimeOriginal), else the one given."""
    return m["shot_at"] if "shot_at" in m else m.get("taken_at")


def _prepare(members: list[dict], rules: Rules) -> None:
    """What the rules read from the files, looked up once."""
    if "camera" in rules.order:
        for m in members:
            if "camera" not in m:  # one look at the file: a re-save's DateTime is no capture
                m["camera"], m["shot_at"] = imaging.camera_facts(m["path"])
    _mark_conversions(members)
    if "format" in rules.order or "compression" in rules.order:
        for m in members:
            if "jpeg_quality" not in m:
                m["jpeg_quality"] = jpeg_quality(m["path"]) if _format(m) in LOSSY else None


def choose(members: list[dict], rules: Rules) -> tuple[dict, list[str]]:
    """The member to keep and the reasons (the rules that set it apart, in order)."""
    _prepare(members, rules)
    pool = list(members)
    reasons: list[str] = []
    for name in rules.order:
        rule = RULES[name]
        winners = rule.winners(pool, rules)
        if len(winners) < len(pool):
            reasons.append(rule.reason(winners[0], rules))
        pool = winners
        if len(pool) == 1:
            break
    pool.sort(key=lambda m: (len(m["path"]), m["path"]))
    if not reasons:
        reasons.append("all copies equal by every rule: the shortest path")
    return pool[0], reasons


def beaten_by(keep: dict, m: dict, rules: Rules) -> str | None:
    """The first rule by which the kept copy beats ``m`` (None: only the path)."""
    for name in rules.order:
        rule = RULES[name]
        if len(rule.winners([keep, m], rules)) == 1 and rule.winners([keep, m], rules)[0] is keep:
            return name
    return None
