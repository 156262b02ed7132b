"""Spatial verification for Find similar: dedup's ORB features and affine fit, shared."""

from __future__ import annotations

import numpy as np

from photofinder.dedup import features as F
from photofinder.dedup import verify as V
from samples import sample_images


def _features(img) -> F.Features:
    return F.from_image(np.asarray(img.convert("RGB")))


def test_inliers_count_the_geometric_agreement_of_another_view():
    imgs = sample_images()
    coffee = imgs["coffee"]
    w, h = coffee.size
    # another view: cropped off-centre, smaller, turned a little
    view = coffee.crop((w // 8, h // 10, w - w // 5, h - h // 6)).rotate(7, expand=True) \
        .resize((w // 2, h // 2))
    fa, fb = _features(coffee), _features(view)
    agree = V.inliers(fa, fb.points, fb.desc)
    assert agree >= 30
    for other in ("astronaut", "rocket", "chelsea"):
        fo = _features(imgs[other])
        assert V.inliers(fo, fb.points, fb.desc) < 10 < agree
