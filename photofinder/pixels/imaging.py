"""Open any supported picture safely: RGB pixels (orientation applied) + metadata; thumbnails.

Every failure becomes an ``ImageError`` with a one-line reason for the user; nothing here
raises anything else for bad input. Decoding happens from bytes already read (the same bytes
are hashed), so a file is read once. The format is decided by content, never by the name:
a PNG named .jpg loads as a PNG, a JPEG named .svg loads as a JPEG. Camera RAW goes through
``formats.raw`` (rawpy), colour modes through ``formats.colour``.
"""

from __future__ import annotations

import io
import os
import stat as statmod
import warnings
from dataclasses import dataclass, field

from PIL import Image, ImageFile, UnidentifiedImageError

from photofinder.identity import content_hash
from photofinder.pixels.formats import RAW_KINDS, ImageError, describe_non_image, sniff, tiff_ifd0_tags
from photofinder.pixels.formats import raw as rawformat
from photofinder.pixels.budget import BUDGET, pixel_bytes
from photofinder.pixels.formats.colour import DEEP, deep_to_l, to_rgb, to_srgb

try:  # HEIC/HEIF (pillow-heif); AVIF is built into Pillow >= 11.3
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - optional
    pillow_heif = None

__all__ = ["ImageError", "Decoded", "EXTENSIONS", "MAX_PIXELS", "is_candidate", "read_bytes",
           "content_hash", "decode", "load", "thumbnail", "to_rgb"]

MAX_PIXELS = 250_000_000  # refuse declared sizes above this before decoding
MAX_FILE_BYTES = 1 << 30
MAX_ASPECT = 50
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False  # a half-copied file is an error, not a grey photo

RAW_EXTENSIONS = frozenset(
    ".cr2 .cr3 .crw .nef .nrw .arw .srf .sr2 .dng .raf .orf .rw2 .rwl .pef .srw .mrw .x3f "
    ".3fr .erf .kdc .iiq".split())
EXTENSIONS = frozenset(
    ".jpg .jpeg .jpe .jfif .png .apng .webp .tif .tiff .gif .bmp .dib .heic .heif .hif .avif "
    ".mpo .pgm .pbm .ppm .pnm .svg".split()) | RAW_EXTENSIONS
# names whose content is as likely a drawing as a photo: the scanner peeks before listing them
PEEK_EXTENSIONS = frozenset({".svg"})

ORIENTATION_TAG = 0x0112
EXIF_IFD = 0x8769
DATETIME_ORIGINAL = 0x9003
DATETIME = 0x0132
DNG_VERSION = 50706
SUB_IFDS = 330
MAKE = 271
MODEL = 272


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


def needs_peek(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in PEEK_EXTENSIONS


def peek_is_picture(path: str | os.PathLike) -> bool:
    """For names in PEEK_EXTENSIONS: does the content look like a raster picture (e.g. a JPEG
    named .svg) rather than what the name says? Unreadable files count as pictures, so they
    get a per-file error instead of vanishing silently."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return True
    return sniff(head) is not None


def read_bytes(path: str | os.PathLike) -> bytes:
    """The whole file, read once; a file that changes or vanishes meanwhile is an error."""
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0) | \
        getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: a FIFO named .jpg must not block us
        try:
            before = os.fstat(fd)
            if statmod.S_ISDIR(before.st_mode):
                raise ImageError("is a folder, not a file")
            if not statmod.S_ISREG(before.st_mode):
                raise ImageError("not a regular file (a device, pipe or socket)")
            if before.st_size > MAX_FILE_BYTES:
                raise ImageError(f"file too large ({before.st_size >> 20} MiB, limit "
                                 f"{MAX_FILE_BYTES >> 20} MiB)")
            with os.fdopen(os.dup(fd), "rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
            after = os.fstat(fd)
        finally:
            os.close(fd)
        now = os.stat(path)
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError("file vanished before it could be read") from None
    except PermissionError:
        raise ImageError("permission denied") from None
    except IsADirectoryError:
        raise ImageError("is a folder, not a file") from None
    except OSError as e:
        raise ImageError(f"cannot read file: {e.strerror or e}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(f"file too large (over {MAX_FILE_BYTES >> 20} MiB)")
    facts = lambda st: (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)  # noqa: E731
    if len(data) != before.st_size or facts(after) != facts(before) or facts(now) != facts(before):
        raise ImageError("file changed while it was being read (still being copied or saved?)")
    if not data:
        raise ImageError("empty file (0 bytes)")
    return data


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:160]


def _too_large(w: int, h: int) -> ImageError:
    return ImageError(f"image too large ({w}x{h} pixels, limit {MAX_PIXELS // 1_000_000} "
                      "megapixels); refused")


def _check_size(w: int, h: int) -> None:
    if w < 1 or h < 1:
        raise ImageError(f"image has no pixels ({w}x{h})")
    if w * h > MAX_PIXELS:
        raise _too_large(w, h)
    if max(w, h) / min(w, h) > MAX_ASPECT:
        raise ImageError(f"absurd aspect ratio ({w}x{h}); not a photo")


def _open(data: bytes, name_ext: str = "") -> Image.Image:
    """Pillow's lazy open (header only) with the size checks made before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError(describe_non_image(data, name_ext)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"image too large (over {MAX_PIXELS // 1_000_000} megapixels); "
                         "refused") from None
    except MemoryError:
        raise ImageError("image header asks for more memory than is available; refused") from None
    except Exception as e:  # Pillow plugins raise many types on bad headers
        raise ImageError(f"damaged image header ({_short(e)})") from None
    _check_size(*img.size)
    return img


def _raw_kind(data: bytes, img: Image.Image | None) -> str | None:
    """The RAW kind of a file, or None. TIFF-based RAWs (DNG, NEF, ARW, PEF...) open in
    Pillow as their small first-IFD preview, so they are recognised by their tags."""
    kind = sniff(data)
    if kind in RAW_KINDS:
        return kind
    if kind != "TIFF" or img is None or img.format != "TIFF":
        return None
    tags = getattr(img, "tag_v2", {})
    try:
        if DNG_VERSION in tags:
            return "DNG"
        if SUB_IFDS in tags and MAKE in tags:
            make = str(tags.get(MAKE, "")).strip("\x00 ").upper()
            return {"NIKON": "NEF", "SONY": "ARW", "PENTAX": "PEF", "RICOH": "PEF",
                    "SAMSUNG": "SRW"}.get(make.split()[0] if make else "", "RAW")
    except Exception:
        return None
    return None


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


def camera_facts(path: str | os.PathLike) -> tuple[bool, str | None]:
    """(the file names the camera that took it (EXIF Make or Model), when the shutter fired
    (EXIF DateTimeOriginal) or None): unlike ``Decoded.taken_at``, never the file's last
    change (DateTime, which an editor sets when it saves a copy)."""
    try:
        with Image.open(path) as img:
            exif = img.getexif()
            camera = bool(str(exif.get(MAKE, "")).strip() or str(exif.get(MODEL, "")).strip())
            taken = exif.get_ifd(EXIF_IFD).get(DATETIME_ORIGINAL)
    except Exception:
        return False, None
    if isinstance(taken, bytes):
        taken = taken.decode("ascii", "replace")
    taken = taken.strip("\x00 ") if isinstance(taken, str) else None
    return camera, (None if not taken or taken.startswith("0000") else taken)


def capture_time(path: str | os.PathLike) -> str | None:
    """When the shutter fired (EXIF DateTimeOriginal), or None (see ``camera_facts``)."""
    return camera_facts(path)[1]


_DRAFT = ("JPEG", "MPO")
# modes Image.reduce averages as they are (never a palette's indices)
_REDUCIBLE = frozenset({"L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "I", "F", "LAB"})
BAND_PIXELS = 4 << 20  # pixels of one band converted at a time (16 MB as RGBA)
WORK_BYTES = 64 << 20  # a decode's working set beside its full-size picture (bands, output)


def _reducible(band: Image.Image) -> Image.Image:
    """A band of rows in a mode ``Image.reduce`` averages correctly: palettes and
    transparency expanded, 16-bit grey scaled to 8 bits, other deep modes as floats."""
    mode, clear = band.mode, "transparency" in band.info
    if mode.startswith("I;16"):
        return deep_to_l(band)
    if mode in ("P", "PA"):
        alpha = clear or mode == "PA" or getattr(band.palette, "mode", "RGB") != "RGB"
        return band.convert("RGBA" if alpha else "RGB")
    if clear:
        return band.convert("RGBA")
    if mode == "1":
        return band.convert("L")
    if mode in _REDUCIBLE:
        return band
    return band.convert("F") if mode in DEEP else band.convert("RGB")


def _reduce_in_bands(img: Image.Image, factor: int) -> Image.Image:
    """``img`` box-reduced by ``factor``, a band of rows at a time, so no copy of the whole
    picture is ever made in another mode (a palette as RGBA, 16-bit grey as floats, RGBA
    premultiplied): the full-size picture Pillow decoded is the only big buffer. Hand-written
    because Pillow reduces only some modes and converts the whole picture first."""
    w, h = img.size
    rows = factor * max(1, BAND_PIXELS // (w * factor))
    out: Image.Image | None = None
    for top in range(0, h, rows):
        band = _reducible(img.crop((0, top, w, min(h, top + rows)))).reduce(factor)
        if out is None:
            out = Image.new(band.mode, (-(-w // factor), -(-h // factor)))
        out.paste(band, (0, top // factor))
    assert out is not None  # h >= 1: one band at least
    out.info = {k: v for k, v in img.info.items() if k != "transparency"}
    return out


def _pixels(img: Image.Image, need: int, orientation: int | None, held: int = 0
            ) -> tuple[Image.Image, bool, int, str | None]:
    """Decode the current frame to RGB at about ``need``, ICC -> sRGB, orientation applied.
    Returns (image, whether the Pillow plugin itself applied the orientation, as the TIFF
    plugin does, the orientation, the capture time read here). Every mode is reduced first
    (``_reduce_in_bands``), and the decode holds its share of the memory budget (``held``:
    bytes the caller holds for it already, the file's) while its full-size picture exists.
    ``orientation`` None: read from the file once its pixels are loaded, inside the budget
    (a PNG's EXIF may follow its pixels, and Pillow decodes the whole picture to look)."""
    if img.format in _DRAFT and need:
        img.draft("RGB" if img.mode in ("RGB", "YCbCr") else img.mode, (need, need))
    w, h = img.size
    cost = w * h * pixel_bytes(img.mode) + WORK_BYTES + held
    with BUDGET.hold(cost, f"this picture ({w}x{h} pixels, {img.mode})"):
        img.load()
        taken = None
        if orientation is None:
            orientation, taken = _exif_info(img)
            by_plugin = False
        else:
            by_plugin = orientation != 1 and _exif_info(img)[0] != orientation
        factor = max(img.size) // (4 * need) if need else 1  # thumbnail's own (gap 2)
        if factor >= 2:
            img = _reduce_in_bands(img, factor)
        img = to_rgb(to_srgb(img))
    if need and max(img.size) > 2 * need:
        img.thumbnail((2 * need, 2 * need), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return (img if by_plugin else _apply_orientation(img, orientation)), by_plugin, orientation, taken


def decode(data: bytes, need: int = 512, name: str | os.PathLike | None = None) -> Decoded:
    """Bytes -> RGB image, reduced for speed but to no less than about ``need`` pixels on its
    longer side (0: full size); orientation applied, colours in sRGB.
    ``name`` (optional) only improves the wording of errors for mislabelled files."""
    if not data:
        raise ImageError("empty file (0 bytes)")
    ext = os.path.splitext(os.fsdecode(name))[1] if name is not None else ""
    try:
        kind = sniff(data)
        img = None
        if kind not in RAW_KINDS:
            try:
                img = _open(data, ext)
            except ImageError as e:
                if kind != "TIFF" or "too large" in str(e):
                    raise
                try:  # a TIFF Pillow cannot show: a DNG whose first IFD is the sensor mosaic
                    dng = DNG_VERSION in tiff_ifd0_tags(data)
                    return _decode_raw(data, need, "DNG" if dng else "RAW", None)
                except ImageError:
                    raise e from None
        raw_kind = _raw_kind(data, img)
        if raw_kind:
            try:
                return _decode_raw(data, need, raw_kind, img)
            except ImageError:
                if img is None or raw_kind == "DNG":
                    raise
                # a camera-made TIFF that LibRaw does not take: read it as the TIFF it is
        assert img is not None  # a RAW kind returned or raised above
        fmt = img.format
        # Pillow finds a PNG's EXIF by decoding the whole picture when no eXIf chunk came
        # before the pixels: that read waits for the budget (``_pixels``)
        late = fmt == "PNG" and "exif" not in img.info
        orientation, taken = (None, None) if late else _exif_info(img)
        meta = {}
        frames = getattr(img, "n_frames", 1)
        if frames > 1:
            meta["frames"] = frames  # animated GIF/WebP/APNG, multipage TIFF, MPO
        full_w, full_h = img.size
        out, by_plugin, orientation, late_taken = _pixels(img, need, orientation, held=len(data))
        taken = taken or late_taken
        if orientation >= 5 and not by_plugin:
            full_w, full_h = full_h, full_w
        if fmt == "HEIF" and img.info.get("original_orientation"):
            # pillow-heif applied the HEIF transforms (irot/imir) and reset EXIF to 1
            orientation = img.info["original_orientation"]
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"image too large (over {MAX_PIXELS // 1_000_000} megapixels); "
                         "refused") from None
    except MemoryError:
        raise ImageError("out of memory decoding this image") from None
    except Exception as e:
        raise ImageError(_damaged(e)) from None
    return Decoded(out, full_w, full_h, orientation, taken, fmt, meta)


def _damaged(e: BaseException) -> str:
    msg = _short(e)
    if "truncated" in msg or isinstance(e, EOFError):
        return f"truncated file: the image data ends early, an incomplete copy? ({msg})"
    return f"damaged image data ({msg})"


def _decode_raw(data: bytes, need: int, kind: str, tiff: Image.Image | None) -> Decoded:
    pic = rawformat.read(data, kind, need, MAX_PIXELS)
    taken = _exif_info(tiff)[1] if tiff is not None else None
    if pic.preview_jpeg is not None:
        preview = _open(pic.preview_jpeg)
        own, preview_taken = _exif_info(preview)
        # LibRaw writes the camera's orientation into previews it wraps; trust a preview's
        # own tag when set, else the RAW's
        img = _pixels(preview, need, own if own != 1 else pic.orientation)[0]
        taken = taken or preview_taken
    else:
        assert pic.pixels is not None  # rawformat.read gives a preview or the pixels
        img = _apply_orientation(Image.fromarray(pic.pixels, "RGB"), pic.orientation)
        if need and max(img.size) > 2 * need:
            img.thumbnail((2 * need, 2 * need), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return Decoded(img, pic.width, pic.height, pic.orientation, taken, kind,
                   {"raw": pic.source})


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _apply_orientation(img: Image.Image, orientation: int) -> Image.Image:
    op = _TRANSPOSE.get(orientation)
    return img.transpose(op) if op is not None else img


def load(path: str | os.PathLike, need: int = 512) -> tuple[Decoded, str, int]:
    """Read, hash and decode a file: (decoded, content hash, size in bytes)."""
    data = read_bytes(path)
    return decode(data, need, name=path), content_hash(data), len(data)


def thumbnail(path: str | os.PathLike, size: int = 256) -> Image.Image:
    """An RGB thumbnail whose longer side is ``size``, orientation applied."""
    img = decode(read_bytes(path), need=size, name=path).image
    img.thumbnail((size, size), Image.Resampling.LANCZOS)
    return img
