"""The keeper's consensus rule (issue 20, point 4): lined up in one frame, the per-pixel
median of a group of copies is the original's picture, so the original is the copy closest
to it. Real photos, real edits (tests/dedup_edits.py), the real feature extractor; the
pairs' geometry as the verdict stores it (verify.Geometry)."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

import dedup_edits as E
from photofinder.dedup import consensus, keeper
from photofinder.dedup import features as F
from photofinder.dedup.verify import Geometry
from photofinder.library import Library

from samples import sample_images


def _jpeg(img: Image.Image, quality: int = 92) -> np.ndarray:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def _geo(matrix, mirrored=False) -> Geometry:
    return Geometry(np.asarray(matrix, np.float64), mirrored, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)


def _star(names: list[str], matrices: dict | None = None) -> list:
    """Pairs from the first copy to each other one (B -> A: the identity unless given)."""
    matrices = matrices or {}
    return [(names[0], n, 1.0, "", _geo(matrices.get(n, np.eye(2, 3)))) for n in names[1:]]


@pytest.mark.parametrize("name", ["coffee", "astronaut", "chelsea"])
def test_the_original_is_among_the_closest_to_the_median_of_its_damaged_copies(name):
    copies = {"original": _jpeg(sample_images()[name])}
    img = Image.fromarray(copies["original"])  # copies are made from the original's file
    rng = np.random.default_rng(3)
    for edit in ("noise-low", "date-stamp", "watermark-corner", "curves", "black-white"):
        out, _, _ = E.apply(img, [edit], rng)
        copies[edit] = _jpeg(out, 95)
    feats = {n: F.from_image(a, a.shape[0] * a.shape[1]) for n, a in copies.items()}
    names = ["noise-low", "original", "date-stamp", "watermark-corner", "curves", "black-white"]
    far = consensus.distances(set(names), _star(names), feats)
    assert set(far) == set(names)
    # the original is among the closest (a copy re-saved at 95 with a tiny stamp may sit as
    # close: the rules after this one tell them apart); the clearly edited ones are not
    pool = [{"path": n, "consensus": d} for n, d in far.items()]
    near = {m["path"] for m in keeper.RULES["consensus"].winners(pool, keeper.Rules())}
    assert "original" in near and not near & {"noise-low", "watermark-corner", "black-white"}, far
    # black and white leaves grey alone: its colour is what the median sees moved
    assert far["black-white"] > far["original"] + 1.0, far


def test_geometry_is_chained_mirrors_and_turns_included():
    """A mirrored copy, a half-size copy and a crop, linked only through one another: the
    chained transforms put each in the reference's frame, where they agree with it."""
    img = sample_images()["coffee"]
    w, h = img.size
    small = img.resize((w // 2, h // 2), Image.Resampling.LANCZOS)
    crop = img.crop((w // 8, h // 8, w - w // 8, h - h // 8))
    arrays = {"o": _jpeg(img), "m": _jpeg(img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
              "s": _jpeg(small), "c": _jpeg(crop), "n": _jpeg(E.apply(img, ["noise-high"],
                                                                         np.random.default_rng(1))[0])}
    feats = {n: F.from_image(a, a.shape[0] * a.shape[1]) for n, a in arrays.items()}
    go = feats["o"].grey.shape
    k_small = go[1] / feats["s"].grey.shape[1]  # s's grey px -> o's grey px
    k_crop = feats["c"].grey.shape[1] * 1.0
    crop_scale = (w - 2 * (w // 8)) / w * go[1] / k_crop  # c's grey px -> o's grey px
    edges = [("o", "m", 1.0, "", _geo(np.eye(2, 3), mirrored=True)),
             ("m", "s", 1.0, "", _geo([[-k_small, 0, go[1] - 1], [0, k_small, 0]])),
             ("o", "c", 1.0, "", _geo([[crop_scale, 0, (w // 8) * go[1] / w],
                                       [0, crop_scale, (h // 8) * go[0] / h]])),
             ("o", "n", 1.0, "", _geo(np.eye(2, 3)))]
    ref, frame = consensus.to_frame({"o", "m", "s", "c", "n"}, edges, feats)
    assert ref == "o" and set(frame) == {"o", "m", "s", "c", "n"}
    far = consensus.distances({"o", "m", "s", "c", "n"}, edges, feats)
    assert far["n"] > max(far["o"], far["m"], far["c"]) + 1.0, far
    assert abs(far["o"] - far["m"]) < 0.2, far  # the mirror lined up: the same picture


def test_two_copies_say_nothing_and_the_rule_then_leaves_the_choice_to_the_others():
    img = sample_images()["coffee"]
    feats = {"a": F.from_image(_jpeg(img)), "b": F.from_image(_jpeg(img, 40))}
    assert consensus.distances({"a", "b"}, _star(["a", "b"]), feats) == {}
    base = dict(format="JPEG", size=1, width=10, height=10, jpeg_quality=92, real=100)
    a = {**base, "path": "/p/a.jpg", "hash": "a", "consensus": 0.0}
    b = {**base, "path": "/p/b.jpg", "hash": "b", "consensus": 0.0, "jpeg_quality": 40}
    keep, reasons = keeper.choose([a, b], keeper.Rules())
    assert keep["path"] == "/p/a.jpg" and "agree" not in " ".join(reasons)


def test_an_order_saved_before_the_rule_gets_it_after_folder():
    old = ["folder", "overlay", "look", "content", "unspoiled", "pixels", "camera", "upright",
           "border", "format", "centre", "compression", "place", "oldest"]
    assert keeper.Rules.from_dict({"order": old}).order == keeper.DEFAULT_RULES


def test_end_to_end_the_original_beats_small_overlays_and_mild_noise(tmp_path, model):
    """The edits the centre rule lost to (issue 20's keeper figures): a date stamp, a corner
    watermark, mild noise, each saved at a higher quality and found first by name."""
    img = sample_images()["astronaut"]
    rng = np.random.default_rng(11)
    d = tmp_path / "photos"
    d.mkdir()
    img.save(d / "z-original.jpg", quality=92)
    img = Image.open(d / "z-original.jpg").convert("RGB")  # copies are made from the file
    for edit in ("date-stamp", "watermark-corner", "noise-low"):
        out, _, _ = E.apply(img, [edit], rng)
        out.save(d / f"a-{edit}.jpg", quality=95)
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(d)
        lib.update()
        (g,) = lib.find_duplicates().groups
    assert os.path.basename(g.keep) == "z-original.jpg", g.members[0].reasons
    assert all(m.preselected for m in g.members if m.path != g.keep)
