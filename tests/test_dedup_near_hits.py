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
from photofinder.dedup import candidates
from photofinder.dedup import signature as S

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
            assert _bits(plain[0], plain[copy]) > candidates.NEAR_BITS, name  # the whole pictures: far apart
            assert _bits(inner[0], inner[copy]) <= candidates.NEAR_BITS, name  # their insides: near
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


def test_a_turned_copy_in_a_frame_is_found_by_its_inside(tmp_path):
    """A real photo turned a quarter and framed: its whole signature hashes far from the
    original's in every orientation, so the rotation pass missed it; the insides (frame
    stripped) agree turned, and the pair comes from the rotation pass (no CNN pair here: the
    vectors are unrelated)."""
    from photofinder.identity import decode_vectors, encode_vector
    from photofinder.store.catalog import Catalog
    from photofinder.store.index import VectorIndex

    imgs = sample_images()
    pics = {f"{n}.jpg": imgs[n] for n in ("rocket", "coffee", "chelsea", "astronaut", "camera")}
    turned = imgs["rocket"].transpose(Image.Transpose.ROTATE_90)
    pics["rocket-turned-framed.jpg"] = ImageOps.expand(turned, border=int(max(turned.size) * 0.07),
                                                       fill=(30, 60, 140))
    cat = Catalog(tmp_path / "catalog.sqlite")
    folder = cat.folders.add("/x")
    rng = np.random.default_rng(4)
    for i, (name, img) in enumerate(pics.items()):
        pid = cat.photos.insert(folder.id, f"/x/{name}", 1000, 0, 1, i)
        v = rng.normal(size=32)
        cat.photos.record_result(pid, {"hash": name, "width": img.width, "height": img.height,
                                       "signature": S.compute(img)}, "m", encode_vector(v / np.linalg.norm(v)))
    idx = VectorIndex(tmp_path / "i.hnsw", 32, "m")
    idx.open(cat.embeddings.labels("m"), lambda ls: decode_vectors(cat.embeddings.vectors(ls)))
    nodes = cat.dedup.nodes()
    args = (cat, idx, {n.photo_id: n.hash for n in nodes}, {n.label: n.photo_id for n in nodes},
            None, 0.8, 6, set(), None)
    before = candidates.find(*args)  # no near hits, no insides: as the old rotation pass
    after = candidates.find(*args, 0.45)
    key = ("rocket-turned-framed.jpg", "rocket.jpg")
    assert key not in before
    assert "rotation" in after[key].sources and after[key].rotation in (1, 3)
    assert set(after) == {key}
