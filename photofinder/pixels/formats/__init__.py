"""What a file really is, from its first bytes (never from its name), and the one error type.

``sniff(data)`` names the container family; ``describe_non_image(data)`` gives the one-line
reason for content that is not a picture at all (an SVG, a video, a PDF...). Below imaging in
the layering; nothing here decodes pixels.
"""

from __future__ import annotations

from typing import Literal

from photofinder.errors import PhotofinderError


class ImageError(PhotofinderError):
    """A file that cannot be used, with a one-line reason."""


# camera RAW families that rawpy (LibRaw) decodes; TIFF-based ones are told apart by tags
RAW_KINDS = frozenset({"CR2", "CR3", "CRW", "NEF", "ARW", "DNG", "RAF", "ORF", "RW2", "PEF",
                       "SRW", "MRW", "X3F", "RAW"})

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
                b"mif2", b"avif", b"avis", b"MiHE", b"MiHB"}
_VIDEO_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1",
                 b"qt  ", b"M4V ", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"dash", b"MSNV", b"XAVC"}

# extension -> the kinds a correctly named file of that extension holds (for messages only)
NAMED = {".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".jfif": "JPEG", ".png": "PNG",
         ".webp": "WebP", ".tif": "TIFF", ".tiff": "TIFF", ".gif": "GIF", ".bmp": "BMP",
         ".heic": "HEIF", ".heif": "HEIF", ".hif": "HEIF", ".avif": "AVIF", ".mpo": "MPO",
         ".dng": "DNG", ".cr2": "CR2", ".cr3": "CR3", ".nef": "NEF", ".arw": "ARW",
         ".raf": "RAF", ".orf": "ORF", ".rw2": "RW2"}


def _ftyp_brands(data: bytes) -> set[bytes]:
    if len(data) < 12 or data[4:8] != b"ftyp":
        return set()
    size = int.from_bytes(data[0:4], "big")
    end = min(max(size, 16), 256, len(data))
    brands = {data[8:12]}
    brands.update(data[i:i + 4] for i in range(16, end - 3, 4))
    return brands


def sniff(data: bytes) -> str | None:
    """The container family from magic bytes: 'JPEG', 'PNG', 'TIFF', 'HEIF', a RAW kind
    ('CR2', 'CR3', 'RAF', 'ORF', 'RW2', ...), 'VIDEO', ... or None when not recognised.
    TIFF-based RAWs other than CR2 (DNG, NEF, ARW...) come back as 'TIFF' here; the loader
    tells them apart by their tags."""
    head = data[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        if head[8:10] == b"CR":
            return "CR2"
        return "TIFF"
    if head[:4] in (b"IIRO", b"IIRS", b"MMOR"):
        return "ORF"
    if head[:4] == b"IIU\x00":
        return "RW2"
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return "RAF"
    if head.startswith(b"\x00MRM"):
        return "MRW"
    if head.startswith(b"FOVb"):
        return "X3F"
    if head[6:14] == b"HEAPCCDR":
        return "CRW"
    brands = _ftyp_brands(data)
    if brands:
        if b"crx " in brands:
            return "CR3"
        if brands & _HEIF_BRANDS:
            return "AVIF" if brands & {b"avif", b"avis"} else "HEIF"
        return "VIDEO"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head.startswith(b"BM"):
        return "BMP"
    return None


def tiff_ifd0_tags(data: bytes) -> set[int]:
    """The tag numbers in a TIFF's first IFD (empty when the header does not parse)."""
    orders: dict[bytes, Literal["little", "big"]] = {b"II": "little", b"MM": "big"}
    order = orders.get(data[:2])
    if order is None or len(data) < 8:
        return set()
    offset = int.from_bytes(data[4:8], order)
    if offset + 2 > len(data):
        return set()
    count = min(int.from_bytes(data[offset:offset + 2], order), 4096)
    start = offset + 2
    return {int.from_bytes(data[start + 12 * i:start + 12 * i + 2], order)
            for i in range(count) if start + 12 * i + 2 <= len(data)}


def describe_non_image(data: bytes, name_ext: str = "") -> str:
    """One line saying what this content is, for a file no decoder accepted."""
    head = data[:1024]
    low = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    kind = None
    if low.startswith(b"<?xml") or low.startswith(b"<svg") or b"<svg" in low:
        kind = "an SVG vector drawing, not a photo (not supported)"
    elif low.startswith(b"<!doctype html") or low.startswith(b"<html"):
        kind = "an HTML page, not an image"
    elif head.startswith(b"%PDF"):
        kind = "a PDF document, not an image"
    elif head.startswith(b"PK\x03\x04"):
        kind = "a ZIP archive, not an image"
    elif sniff(data) == "VIDEO" or (head.startswith(b"RIFF") and head[8:11] == b"AVI"):
        kind = "a video, not a photo (not supported)"
    elif head.startswith(b"\xff\x0a") or head[4:8] == b"JXL ":
        kind = "a JPEG XL image (not supported yet)"
    if kind:
        return kind
    expected = NAMED.get(name_ext.lower())
    if expected:
        return (f"not an image: named {name_ext.lower()} but the content is not a {expected} "
                "or any picture format photofinder reads (corrupt or mislabelled file)")
    return "not an image, or a format photofinder cannot read"
