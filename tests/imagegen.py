"""Real picture files for the loader tests, made with Pillow, pillow-heif and tifffile.

``upright()`` is a landscape picture with four coloured quadrants; ``stored_for(o)`` is what a
camera writes for EXIF orientation ``o`` so that showing it honouring ``o`` gives ``upright()``.
"""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image

W, H = 96, 64
RED, GREEN, BLUE, WHITE = (230, 20, 20), (20, 200, 30), (20, 40, 220), (250, 250, 250)

# EXIF orientation -> the transpose that shows the stored pixels upright
SHOW = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90}
# ... and its inverse (what the camera stores)
STORE = {**SHOW, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def upright(w: int = W, h: int = H) -> Image.Image:
    a = np.zeros((h, w, 3), np.uint8)
    a[: h // 2, : w // 2] = RED
    a[: h // 2, w // 2:] = GREEN
    a[h // 2:, : w // 2] = BLUE
    a[h // 2:, w // 2:] = WHITE
    return Image.fromarray(a)


def stored_for(orientation: int, img: Image.Image | None = None) -> Image.Image:
    img = upright() if img is None else img
    op = STORE.get(orientation)
    return img.transpose(op) if op is not None else img


def exif_with(orientation: int, taken: str | None = None) -> Image.Exif:
    ex = Image.Exif()
    ex[0x0112] = orientation
    if taken:
        ex[0x0132] = taken
    return ex


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def quadrants(img: Image.Image) -> list[tuple[int, int, int]]:
    """Colours at the centres of the four quadrants: TL, TR, BL, BR."""
    w, h = img.size
    pts = [(w // 4, h // 4), (3 * w // 4, h // 4), (w // 4, 3 * h // 4), (3 * w // 4, 3 * h // 4)]
    return [img.getpixel(p)[:3] for p in pts]


def close(a, b, tol: int = 40) -> bool:
    return all(abs(int(x) - int(y)) <= tol for x, y in zip(a, b))


def is_upright(img: Image.Image, tol: int = 45) -> bool:
    return img.width > img.height and all(
        close(c, e, tol) for c, e in zip(quadrants(img), (RED, GREEN, BLUE, WHITE)))


# -- camera RAW: a DNG (CFA sensor data + optional preview), written with tifffile -----------
def make_dng(orientation: int = 1, preview: str | None = "jpeg", w: int = 192, h: int = 128) -> bytes:
    """A valid DNG of ``upright()`` as a camera would store it for ``orientation``: an RGGB
    Bayer mosaic in a SubIFD and, in IFD0, a half-size preview as 'jpeg' or 'bitmap' (or
    none: IFD0 is then the mosaic itself)."""
    import tifffile

    scene = np.asarray(stored_for(orientation, upright(w, h)), np.float64) / 255.0
    sh, sw = scene.shape[:2]
    cfa = np.zeros((sh, sw), np.uint16)
    cfa[0::2, 0::2] = scene[0::2, 0::2, 0] * 4000
    cfa[0::2, 1::2] = scene[0::2, 1::2, 1] * 4000
    cfa[1::2, 0::2] = scene[1::2, 0::2, 1] * 4000
    cfa[1::2, 1::2] = scene[1::2, 1::2, 2] * 4000
    identity = (1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1)
    dng_tags = [(50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
                (50707, "B", 4, (1, 1, 0, 0), True),  # DNGBackwardVersion
                (50708, "s", 0, "photofinder test camera", True),  # UniqueCameraModel
                (50721, "2i", 9, identity, True),  # ColorMatrix1
                (50728, "2I", 3, (1, 1, 1, 1, 1, 1), True),  # AsShotNeutral
                (274, "H", 1, orientation, True)]
    cfa_tags = [(33421, "H", 2, (2, 2), True), (33422, "B", 4, (0, 1, 1, 2), True),
                (50714, "H", 1, 0, True), (50717, "H", 1, 4095, True)]
    small = (scene[::2, ::2] * 255).astype(np.uint8)
    jpeg = encode(Image.fromarray(small), "JPEG", quality=95) if preview == "jpeg" else b""
    buf = io.BytesIO()
    with tifffile.TiffWriter(buf) as tw:
        if preview:
            tw.write(small, photometric="rgb", subfiletype=1, subifds=1,
                     rowsperstrip=small.shape[0], extratags=dng_tags)
            tw.write(cfa, photometric=32803, subfiletype=0, extratags=cfa_tags)
        else:
            tw.write(cfa, photometric=32803, subfiletype=0, extratags=dng_tags + cfa_tags)
    data = bytearray(buf.getvalue())
    if preview == "jpeg":  # tifffile cannot JPEG-encode: swap the strip for a JPEG stream
        with tifffile.TiffFile(io.BytesIO(bytes(data))) as tf:
            page = tf.pages[0]
            offset = page.dataoffsets[0]
            tags = page.tags
            counts = tags["StripByteCounts"]
            assert len(jpeg) <= small.nbytes
            data[offset:offset + len(jpeg)] = jpeg
            struct.pack_into("<H", data, tags["Compression"].valueoffset, 7)
            struct.pack_into("<H", data, tags["PhotometricInterpretation"].valueoffset, 6)
            struct.pack_into("<I" if counts.dtype == 4 else "<H", data, counts.valueoffset,
                             len(jpeg))
    return bytes(data)


# -- an ICC profile whose red and blue primaries are swapped (a matrix/TRC v2 profile) ------
def _s15(v: float) -> bytes:
    return struct.pack(">i", int(round(v * 65536)))


def swapped_rgb_icc() -> bytes:
    """Pixels tagged with this profile that say (255, 0, 0) are sRGB blue, and vice versa."""
    def xyz(x, y, z):
        return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)

    curv = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233) + b"\0\0"  # gamma 2.2
    desc_text = b"photofinder swapped test\0"
    desc = (b"desc\0\0\0\0" + struct.pack(">I", len(desc_text)) + desc_text
            + b"\0" * 12 + b"\0" * 67)
    tags = [(b"desc", desc), (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
            (b"rXYZ", xyz(0.1431, 0.0606, 0.7141)),  # sRGB's blue colorant
            (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
            (b"bXYZ", xyz(0.4361, 0.2225, 0.0139)),  # sRGB's red colorant
            (b"rTRC", curv), (b"gTRC", curv), (b"bTRC", curv)]
    table, blobs = b"", b""
    offset = 128 + 4 + 12 * len(tags)
    for sig, blob in tags:
        blob += b"\0" * (-len(blob) % 4)
        table += sig + struct.pack(">II", offset + len(blobs), len(blob))
        blobs += blob
    body = struct.pack(">I", len(tags)) + table + blobs
    size = 128 + len(body)
    header = (struct.pack(">I", size) + b"lcms" + struct.pack(">I", 0x02100000) + b"mntr"
              + b"RGB " + b"XYZ " + b"\0" * 12 + b"acsp" + b"\0" * 24
              + struct.pack(">I", 0) + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 48)
    assert len(header) == 128
    return header + body


def big_png(path, width: int, height: int, kind: str = "L") -> None:
    """A PNG of ``width`` x ``height`` pixels written row by row (never held whole, so a
    250-megapixel file is made in a few MB): ``kind`` "L" (8-bit grey), "I;16" (16-bit grey),
    "P" (palette), "RGB" or "RGBA". The picture is a soft diagonal gradient with bands, so it
    compresses to a few hundred KB yet is no blank page. Pillow would need the whole image in
    memory to write it; the PNG format (zlib stream of filtered rows) is simple enough to
    stream by hand here."""
    import zlib

    colour_type, depth, channels = {"L": (0, 8, 1), "I;16": (0, 16, 1), "P": (3, 8, 1),
                                     "RGB": (2, 8, 3), "RGBA": (6, 8, 4)}[kind]

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    x = np.arange(width, dtype=np.int64)
    comp = zlib.compressobj(6)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour_type,
                                           0, 0, 0)))
        if kind == "P":
            ramp = np.arange(256, dtype=np.uint8)
            ramp3 = (np.arange(256) * 3 % 256).astype(np.uint8)
            f.write(chunk(b"PLTE", np.stack([ramp, ramp[::-1], ramp3],
                                            axis=1).tobytes()))
        idat = bytearray()
        for y in range(height):
            v = ((x + y) * 65535 // (width + height)) ^ (((y // 512) & 1) * 0x3000)
            if depth == 16:
                row = v.astype(">u2").tobytes()
            else:
                row = np.repeat((v >> 8).astype(np.uint8), channels).tobytes()
                if kind == "RGBA":
                    a = np.frombuffer(row, np.uint8).reshape(-1, 4).copy()
                    a[:, 3] = 255
                    row = a.tobytes()
            raw = np.frombuffer(row, np.uint8)
            bpp = channels * depth // 8
            sub = raw.copy()
            sub[bpp:] -= raw[:-bpp]  # PNG filter 1 (Sub): a gradient becomes a constant
            idat += comp.compress(b"\x01" + sub.tobytes())
            if len(idat) > 1 << 20:
                f.write(chunk(b"IDAT", bytes(idat)))
                idat.clear()
        idat += comp.flush()
        f.write(chunk(b"IDAT", bytes(idat)))
        f.write(chunk(b"IEND", b""))
