"""Issue 20, the candidate stage: a heavily edited copy the CNN puts below the threshold is
still checked when the pixel signatures' hashes agree (candidates: near hits), and a frame or
letterbox bars no longer hide a copy from the hash (signature.trimmed). Real photos and edits,
the real model, catalogue and index."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageOps

import dbutil
import dedup_edits as E
from photofinder.dedup import signature as S
from photofinder.dedup.candidates import NEAR_BITS
from photofinder.dedup.finder import thresholds
from photofinder.library import Library
from samples import sample_images


def _bits(a: int, b: int) -> int:
    return int(np.bitwise_count(np.uint64(a) ^ np.uint64(b)))


def test_a_frame_or_letterbox_is_stripped_before_hashing():
    """A frame (any colour) or letterbox bars around a real photo move its hash far from the
    original's; with flat edges stripped, the copy hashes near its original again, and a
    photo without flat edges is left as it is."""
    imgs = sample_images()
    for name in ("rocket", "coffee", "chelsea"):
        img = imgs[name]
        framed = ImageOps.expand(img, border=int(max(img.size) * 0.07), fill=(180, 30, 40))
        w, h = img.size
        boxed = Image.new("RGB", (w, int(h * 1.3)), (0, 0, 0))
        boxed.paste(img, (0, (boxed.height - h) // 2))
        sigs = np.stack([np.frombuffer(S.compute(x), np.uint8) for x in (img, framed, boxed)])
        plain, inner = S.dihedral_hashes(sigs)[:, 0], S.dihedral_hashes(S.trimmed(sigs))[:, 0]
        for copy in (1, 2):
            assert _bits(plain[0], plain[copy]) > NEAR_BITS, name  # the whole pictures: far apart
            assert _bits(inner[0], inner[copy]) <= NEAR_BITS, name  # their insides: near
    photo = np.frombuffer(S.compute(imgs["astronaut"]), np.uint8)[None]
    assert np.array_equal(S.trimmed(photo), photo)


def test_a_copy_the_cnn_puts_below_every_threshold_is_found_by_its_pixels(tmp_path, model):
    """A 96 px thumbnail of retina, framed, with noise, in black and white: the CNN puts it at
    0.49 from its original, below the threshold and below the lonely photo's floor, so no CNN
    rule paired them before. It is among its original's first hits and their signatures,
    with the frame stripped, hash alike: it is checked, and it is a copy. The unrelated
    photos stay alone. (Which of the two is kept is the keeper's business: today the framed
    thumbnail, read as showing more of the picture.)"""
    imgs = sample_images()
    d = tmp_path / "photos"
    d.mkdir()
    copy, fmt, quality = E.apply(imgs["retina"], ["thumbnail", "frame", "noise-mid", "black-white"],
                                 np.random.default_rng(6))
    copy.save(d / "retina-thumb.jpg", fmt, quality=quality)
    for name in ("retina", "camera", "coins", "hubble_deep_field", "astronaut", "coffee", "rocket"):
        imgs[name].save(d / f"{name}.jpg", quality=92)
    th = thresholds(0.5)
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(d)
        lib.update(duplicates=False)
        vec = {os.path.basename(r["path"]): np.frombuffer(r["vector"], np.float16).astype(np.float32)
               for r in dbutil.rows(lib, "SELECT p.path, e.vector FROM photos p "
                                         "JOIN embeddings e ON e.photo_id=p.id")}
        cos = float(vec["retina.jpg"] @ vec["retina-thumb.jpg"])
        # what the CNN rules alone cannot reach: below the threshold and the lonely floor
        assert th["near_cosine"] <= cos < th["grey_cosine"] < th["cosine"]
        found = lib.find_duplicates()
    (group,) = found.groups
    assert {os.path.basename(m.path) for m in group.members} == {"retina.jpg", "retina-thumb.jpg"}
