"""Helpers shared by the benchmarks: test photos, distinct copies, timing, RSS."""

from __future__ import annotations

import io
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "testdata"


def emit(result: dict) -> None:
    print(json.dumps(result, indent=2))
    sys.stdout.flush()


def asks_help(args: list[str], doc: str | None) -> bool:
    """True (after printing the script's docstring) when ``args`` ask for -h or --help: a
    benchmark would otherwise take the flag for a folder and start its work."""
    if "-h" in args or "--help" in args:
        print((doc or "").strip())
        return True
    return False


def pop_option(args: list[str], name: str, default=None):
    """The value after ``name`` in ``args`` (both taken out of it), else ``default``: what
    is left are the positional arguments."""
    if name not in args:
        return default
    i = args.index(name)
    value = args[i + 1]
    del args[i:i + 2]
    return value


def median_ms(fn, rounds: int, warm: bool = True) -> float:
    """Median wall time of ``fn()`` in ms over ``rounds`` calls (after one unmeasured call
    when ``warm``)."""
    if warm:
        fn()
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 2)


def median(xs):
    return round(statistics.median(xs), 3)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return round(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def camera_jpegs() -> list[bytes]:
    """12-megapixel camera JPEGs: the shared phone photos, else a generated stand-in."""
    d = SHARED / "pdq" / "reg-test-input" / "exif-rotn"
    if d.is_dir():
        return [p.read_bytes() for p in sorted(d.glob("*.jpg"))]
    import skimage.data

    img = Image.fromarray(skimage.data.astronaut()).resize((4032, 3024), Image.Resampling.BICUBIC)
    noise = np.random.default_rng(0).integers(0, 12, (3024, 4032, 3), dtype=np.uint8)
    img = Image.fromarray(np.asarray(img) ^ noise)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92)
    return [buf.getvalue()]


def small_jpegs() -> list[bytes]:
    import skimage.data

    out = []
    for name in ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "retina"):
        buf = io.BytesIO()
        Image.fromarray(getattr(skimage.data, name)()).convert("RGB").resize((640, 480)).save(
            buf, "JPEG", quality=88)
        out.append(buf.getvalue())
    return out


def distinct_copies(sources: list[bytes], folder: Path, n: int) -> list[Path]:
    """``n`` distinct files (different bytes, so different content hashes) from ``sources``:
    each gets a JPEG comment segment with its number right after the SOI marker."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        src = sources[i % len(sources)]
        comment = f"photofinder benchmark copy {i}".encode()
        seg = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
        p = folder / f"photo{i:05d}.jpg"
        p.write_bytes(src[:2] + seg + src[2:])
        paths.append(p)
    return paths


class Timer:
    def __enter__(self):
        self.t = time.perf_counter()
        return self

    def __exit__(self, *a):
        self.s = time.perf_counter() - self.t
