"""Fuzz imaging.decode with mutated real image bytes (run by test_fuzz_decode.py in a child
process, so a hang or a hard crash fails the test instead of blocking the suite).

usage: python fuzz_decode.py EXAMPLES CASE_FILE
Before each decode the input is written to CASE_FILE, so the parent can keep the input that
hung or crashed the process. Exits 0 when every input gave a valid RGB result or a clean
ImageError; otherwise hypothesis reports the (shrunk) failing input and the exit is non-zero.
"""

from __future__ import annotations

import os
import resource
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from PIL import Image  # noqa: E402

import imagegen as g  # noqa: E402
from photofinder.pixels import imaging  # noqa: E402


def seeds() -> list[bytes]:
    img = g.upright(64, 48)
    ex = g.exif_with(6, taken="2020:01:02 03:04:05").tobytes()
    frames = [img, Image.new("RGB", img.size, (0, 0, 0))]
    out = [
        g.encode(img, "JPEG", quality=80, exif=ex),
        g.encode(img, "JPEG", quality=80, progressive=True),
        g.encode(img, "PNG", exif=ex, icc_profile=g.swapped_rgb_icc()),
        g.encode(img.convert("RGBA"), "PNG"),
        g.encode(img, "WEBP", quality=80),
        g.encode(img, "WEBP", lossless=True),
        g.encode(img.convert("P"), "GIF", save_all=True, append_images=[f.convert("P") for f in frames]),
        g.encode(img, "TIFF", save_all=True, append_images=frames[1:]),
        g.encode(img, "TIFF", compression="tiff_lzw"),
        g.encode(img, "BMP"),
        g.encode(img, "HEIF", quality=70, exif=ex),
        g.encode(img, "AVIF", quality=70),
        g.encode(img, "MPO", save_all=True, append_images=frames[1:]),
        g.make_dng(6, "jpeg", 64, 48),
        g.make_dng(1, None, 64, 48),
    ]
    return out


SEEDS = seeds()
INTERESTING = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE]


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        n = len(data)
        if n == 0:
            break
        # headers hold the sizes and offsets: aim there half the time
        pos = draw(st.one_of(st.integers(0, min(n - 1, 96)), st.integers(0, n - 1)))
        op = draw(st.sampled_from(["flip", "set", "big", "insert", "delete", "truncate", "dup"]))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[pos] = draw(st.sampled_from(INTERESTING))
        elif op == "big":  # a 16- or 32-bit field set to an extreme value
            width = draw(st.sampled_from([2, 4]))
            value = draw(st.sampled_from([0, 1, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 65500]))
            data[pos:pos + width] = (value & ((1 << (8 * width)) - 1)).to_bytes(
                width, draw(st.sampled_from(["big", "little"])))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=32))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[pos:]
        else:  # duplicate a chunk
            chunk = data[pos:pos + draw(st.integers(1, 256))]
            data[pos:pos] = chunk
    return bytes(data)


def check(data: bytes, case_file: str) -> None:
    with open(case_file, "wb") as f:
        f.write(data)
    for need in (64, 0):
        try:
            d = imaging.decode(data, need=need)
        except imaging.ImageError as e:
            assert str(e) and "\n" not in str(e), repr(str(e))
            continue
        assert d.image.mode == "RGB"
        w, h = d.image.size
        assert w >= 1 and h >= 1 and w * h <= imaging.MAX_PIXELS
        assert d.width >= 1 and d.height >= 1
        assert 1 <= d.orientation <= 8
        a = np.asarray(d.image)
        assert a.shape == (h, w, 3) and a.dtype == np.uint8


def main() -> int:
    examples, case_file = int(sys.argv[1]), sys.argv[2]
    # a huge allocation must become MemoryError -> ImageError, not take the machine down
    limit = 3 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    warnings.simplefilter("ignore")
    for s in SEEDS:  # every seed is valid to begin with
        imaging.decode(s, need=64)

    @settings(max_examples=examples, deadline=None, database=None, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(mutated())
    def fuzz(data):
        check(data, case_file)

    fuzz()
    print(f"fuzzed {examples} inputs from {len(SEEDS)} seeds: all clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
