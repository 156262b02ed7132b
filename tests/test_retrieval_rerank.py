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


def test_lift_keeps_scores_in_range_and_order():
    from photofinder.retrieval import rerank as R

    assert R.lift(0.7, 0) == 0.7 and R.lift(0.7, R.FROM) == 0.7
    assert R.lift(0.7, R.FULL) == R.lift(0.7, 500) == 0.7 + 0.3 * R.WEIGHT
    assert 0.7 < R.lift(0.7, (R.FROM + R.FULL) // 2) < R.lift(0.7, R.FULL) <= 1.0
    assert R.lift(-0.2, 0) == -0.2 and R.lift(0.99, 100) <= 1.0


def test_rerank_lifts_the_geometric_match_over_a_closer_cosine():
    from photofinder.retrieval import rerank as R

    imgs = sample_images()
    coffee = imgs["coffee"]
    w, h = coffee.size
    query = _features(coffee.crop((w // 6, h // 6, w - w // 8, h - h // 5)))
    feats = {1: _features(imgs["astronaut"]), 2: _features(coffee), 3: None}
    asked = []

    def features_of(labels):
        asked.append(list(labels))
        return {l: R.compact(feats[l]) for l in labels}

    hits = [(1, 0.80), (3, 0.75), (2, 0.70), (4, 0.60)]
    got = R.rerank(query, hits, features_of, top=3)
    assert asked == [[1, 3, 2]]  # only the top are verified
    assert [l for l, _ in got] == [2, 1, 3, 4]
    assert dict(got)[1] == 0.80 and dict(got)[3] == 0.75 and dict(got)[4] == 0.60
    assert dict(got)[2] > 0.80
    assert R.rerank(None, hits, features_of) == hits


def test_feature_cache_loads_each_photo_once_and_forgets_the_oldest():
    from photofinder.retrieval.rerank import FeatureCache

    f = _features(sample_images()["rocket"])
    loads = []

    def load(labels):
        loads.append(list(labels))
        return {l: f for l in labels}

    cache = FeatureCache(load, size=3)
    assert set(cache([1, 2])) == {1, 2}
    assert cache([2, 3])[3].grey.size == 0  # kept compact: keypoints only
    assert loads == [[1, 2], [3]]
    cache([4])  # 1 is the least recently used
    cache([1])
    assert loads[-1] == [1]


def test_find_this_a_region_finds_the_photos_that_show_it(tmp_path, model, capsys):
    import json

    import pytest
    from PIL import Image

    from photofinder.cli.main import main
    from photofinder.library import Library, LibraryError

    imgs = sample_images()
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("astronaut", "rocket", "chelsea", "coins", "camera"):
        imgs[name].save(folder / f"{name}.jpg", quality=90)
    # another view of the coffee cup alone: cropped round it, turned a little, smaller
    coffee = imgs["coffee"]  # 600 x 400: the cup sits in the middle, about x 120-460, y 20-330
    coffee.crop((90, 0, 500, 360)).rotate(6, expand=True, fillcolor=(200, 190, 180)) \
        .resize((300, 280), Image.Resampling.LANCZOS).save(folder / "cup.jpg", quality=88)
    # the query: the cup on a wide table (a photo not in the library), stored turned with
    # EXIF orientation 6, so its region is in the pixels as shown (upright)
    wide = Image.new("RGB", (1500, 900), (96, 72, 60))
    wide.paste(imgs["astronaut"].resize((420, 420)), (1020, 300))
    wide.paste(coffee, (200, 250))
    exif = Image.Exif()
    exif[0x0112] = 6
    query = tmp_path / "table.jpg"
    wide.rotate(90, expand=True).save(query, quality=92, exif=exif)
    lib = Library(tmp_path / "lib")
    lib.add_folder(folder)
    lib.update(duplicates=False)
    box = (200 + 120, 250 + 20, 340, 310)
    got = lib.similar(query, top=6, region=box)
    assert got[0].path.endswith("cup.jpg"), [(m.path, m.score) for m in got]
    scores = [m.score for m in got]
    assert scores == sorted(scores, reverse=True) and all(-1 <= s <= 1 for s in scores)
    # its local features agree: the score is lifted above the cosine the graph gave it
    vecs = lib.search.region_query(query, box).vectors
    cosine = max(float(v @ lib.space.stored_vectors([l])[0]) for v in vecs for l in
                 [lib.catalog.embeddings.of_photo(got[0].photo_id, lib.embedder.model_id).label])
    assert got[0].score > cosine + 0.25 * (1 - cosine)
    with pytest.raises(LibraryError, match="outside the picture"):
        lib.similar(query, region=(1400, 10, 200, 200))  # 1500 px wide as shown
    with pytest.raises(LibraryError):
        lib.similar(query, region=(10, 10, 0, 20))
    lib.close()
    assert main(["--library", str(lib.path), "similar", str(query), "--region",
                 ",".join(map(str, box)), "--top", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["query"] == str(query) and out["results"][0]["path"].endswith("cup.jpg")
    with pytest.raises(SystemExit) as e:
        main(["--library", str(lib.path), "similar", str(query), "--region", "1,2,3"])
    assert e.value.code == 2
    assert main(["--library", str(lib.path), "similar", str(query), "--region",
                 "1400,10,200,200"]) == 1
    assert "outside the picture" in capsys.readouterr().err
