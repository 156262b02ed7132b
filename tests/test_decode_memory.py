"""Decoding bounds memory by design: every mode is reduced band by band (no full-size copy
in another mode, no float64), and a memory budget caps how many large decodes run at once
(one over the whole budget is refused, naming it). Peak RSS is measured in a fresh process
decoding a real file, as indexing does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import imagegen
from photofinder.pixels import budget, imaging
from photofinder.work.decodepool import DecodePool

ROOT = Path(__file__).resolve().parents[1]
CHILD = r"""
import json, sys
from photofinder.pixels import imaging
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
idle = status("VmRSS")
decoded, _, _ = imaging.load(sys.argv[1], need=256)
print(json.dumps({"above_idle_mb": status("VmHWM") - idle, "size": decoded.image.size,
                  "full": [decoded.width, decoded.height]}))
"""


def peak_above_idle(path) -> dict:
    p = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                       timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    return json.loads(p.stdout)


@pytest.mark.parametrize("kind,limit_mb", [("I;16", 400), ("P", 300), ("RGBA", 450)])
def test_a_64_megapixel_png_decodes_in_bounded_memory(tmp_path, kind, limit_mb):
    """Before: 16-bit grey 1,590 MB, palette 1,040 MB, RGBA 496 MB above idle (float64
    copies, palettes and premultiplied RGBA at full size). Now: the full-size picture
    Pillow decodes (128 / 64 / 256 MB) and little more."""
    path = tmp_path / "big.png"
    imagegen.big_png(path, 10000, 6400, kind)
    r = peak_above_idle(path)
    assert r["full"] == [10000, 6400] and max(r["size"]) == 512
    assert r["above_idle_mb"] < limit_mb, r


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["I;16", "P", "L"])
def test_deep_and_palette_pngs_at_the_limit_stay_within_1_gb(tmp_path, kind):
    path = tmp_path / "huge.png"
    imagegen.big_png(path, 20000, 12500, kind)  # 250 megapixels: MAX_PIXELS
    r = peak_above_idle(path)
    assert r["full"] == [20000, 12500] and r["above_idle_mb"] < 1024, r


@pytest.mark.parametrize("kind", ["I;16", "P", "PA", "LA", "RGBA", "1", "F"])
def test_reduced_in_bands_matches_converting_first(kind):
    """The band-by-band reduction gives the picture converting the whole image first gave
    (within rounding), for modes Pillow cannot reduce as they are."""
    rng = np.random.default_rng(3)
    base = Image.fromarray(rng.integers(0, 256, (900, 1400, 3), dtype=np.uint8), "RGB")
    base = base.resize((140, 90)).resize((1400, 900), Image.Resampling.BILINEAR)
    if kind == "I;16":
        img = Image.fromarray(np.asarray(base.convert("L")).astype(np.uint16) * 257)
    elif kind == "F":
        img = Image.fromarray(np.asarray(base.convert("L")).astype(np.float32) / 255.0, "F")
    elif kind in ("P", "PA"):
        img = base.quantize(64)
        if kind == "PA":
            img = img.convert("PA")
    else:
        img = base.convert(kind)
    whole = imaging.to_rgb(img).reduce(7)
    banded = imaging.to_rgb(imaging._reduce_in_bands(img, 7))
    assert banded.size == whole.size
    diff = np.abs(np.asarray(banded, np.int16) - np.asarray(whole, np.int16))
    assert diff.max() <= (40 if kind == "1" else 3), (kind, diff.max())


def test_a_decode_over_the_whole_budget_is_refused_naming_it(tmp_path, monkeypatch):
    path = tmp_path / "scan.png"
    imagegen.big_png(path, 10000, 6400, "RGB")  # 256 MB in Pillow
    monkeypatch.setattr(budget.BUDGET, "limit", 200 << 20)
    with pytest.raises(imaging.ImageError) as e:
        imaging.load(path)
    assert "over the decode memory budget of 200 MB" in str(e.value)
    assert "10000x6400" in str(e.value)
    assert budget.BUDGET.used == 0


def test_the_budget_lets_large_decodes_run_one_after_another():
    b = budget.MemoryBudget(100 << 20)
    inside, overlaps, waits = [0], [0], []

    def decode():
        with b.waiting(lambda: waits.append("pause"), lambda: waits.append("resume")):
            with b.hold(60 << 20, "a scan"):
                inside[0] += 1
                overlaps[0] = max(overlaps[0], inside[0])
                time.sleep(0.2)
                inside[0] -= 1

    threads = [threading.Thread(target=decode) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps[0] == 1 and b.used == 0
    assert waits.count("pause") == 2 and waits.count("resume") == 2
    with b.hold(10 << 20, "a photo"), b.hold(10 << 20, "another"):  # small: never counted
        assert b.used == 0


def test_waiting_for_the_budget_is_not_a_stuck_decode(monkeypatch):
    """The decode pool's time limit runs while a file decodes, not while it waits its turn
    for memory."""
    monkeypatch.setattr(budget.BUDGET, "limit", 100 << 20)

    def decode(hold_s):
        with budget.BUDGET.hold(60 << 20, "a scan"):
            time.sleep(hold_s)
        return hold_s

    pool = DecodePool(2, timeout=0.6)
    try:
        jobs = [pool.submit(decode, 0.4) for _ in range(3)]  # the third waits 0.8 s
        assert [pool.result(j) for j in jobs] == [0.4, 0.4, 0.4]
    finally:
        pool.close()


@pytest.mark.parametrize("exif_first", [False, True])
def test_a_png_is_decoded_only_inside_the_budget(tmp_path, monkeypatch, exif_first):
    """Pillow reads a PNG's EXIF by decoding the whole picture when no eXIf chunk comes
    before the pixels: that read counts against the budget too (eight 250-megapixel 16-bit
    scans at once peaked at 4 GB above idle against a 1.5 GB budget), and the orientation
    found there is still applied."""
    from PIL import PngImagePlugin

    path = tmp_path / "scan.png"
    exif = Image.Exif()
    exif[0x0112] = 6  # turned: shown 90 degrees clockwise
    img = Image.fromarray(np.random.default_rng(1).integers(0, 255, (3000, 12000), np.uint8))
    img.save(path, exif=exif.tobytes() if exif_first else None)  # 36 MB in Pillow: counted
    held_at_load = []
    real_load = PngImagePlugin.PngImageFile.load

    def load(self):
        held_at_load.append(budget.BUDGET.used)
        return real_load(self)

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", load)
    decoded, _, _ = imaging.load(path, need=256)
    assert held_at_load and min(held_at_load) >= 3000 * 12000
    if exif_first:  # as shown: turned
        assert decoded.orientation == 6 and (decoded.width, decoded.height) == (3000, 12000)
        assert decoded.image.height > decoded.image.width
    else:
        assert decoded.orientation == 1 and (decoded.width, decoded.height) == (12000, 3000)


POOL_CHILD = r"""
import json, sys
from photofinder.pixels import budget, imaging
from photofinder.work.decodepool import DecodePool
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
if sys.argv[2] == "keep":  # what happens without it
    budget.return_freed_memory = lambda: False
idle = status("VmRSS")
pool = DecodePool(8, timeout=600)
jobs = [pool.submit(imaging.load, sys.argv[1], 256) for _ in range(8)]
sizes = [pool.result(j)[0].image.size for j in jobs]
pool.close()
print(json.dumps({"above_idle_mb": status("VmHWM") - idle, "sizes": sizes}))
"""


@pytest.mark.slow
def test_eight_scans_at_once_stay_within_the_budget(tmp_path):
    """A folder of film scans, one decode worker each: the budget lets two 250-megapixel
    16-bit PNGs decode at a time, and what one worker frees another can use (glibc would
    keep each thread's freed blocks: 2.6 GB above idle against the 1.5 GB budget)."""
    path = tmp_path / "scan.png"
    imagegen.big_png(path, 20000, 12500, "I;16")
    p = subprocess.run([sys.executable, "-c", POOL_CHILD, str(path), "return"], capture_output=True,
                       text=True, timeout=900, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    r = json.loads(p.stdout)
    assert r["sizes"] == [[512, 320]] * 8
    assert r["above_idle_mb"] <= budget.BUDGET_BYTES / 2**20, r
