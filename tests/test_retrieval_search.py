"""The search pipeline: a photo stored sideways (no EXIF) still finds its scene, through the
4-rotation query; query expansion stays a working option."""

from __future__ import annotations

import os

from PIL import Image

from photofinder.retrieval.search import Searcher, SearchOptions


def test_sideways_copy_finds_its_original(library, photo_set, tmp_path):
    library.add_folder(photo_set / "originals")
    library.update()
    turned = tmp_path / "turned"
    turned.mkdir()
    hits_views, hits_upright = 0, 0
    for name in ("astronaut", "coffee", "chelsea", "rocket", "stereo_motorcycle", "camera"):
        with Image.open(photo_set / "originals" / f"{name}.jpg") as im:
            im.transpose(Image.Transpose.ROTATE_90).save(turned / f"{name}.jpg", quality=90)
        q = turned / f"{name}.jpg"
        query = library.search.query(q)
        vecs, own = query.vectors, query.own_id
        assert vecs.shape[0] == 4 and own is None
        got = library.similar(q, top=3)
        assert os.path.basename(got[0].path) == f"{name}.jpg"
        hits_views += os.path.basename(got[0].path) == f"{name}.jpg"
        plain = Searcher(library.space.index, library.space.stored_vectors, SearchOptions(rotations=False))
        top = plain.rank(vecs[0], 1)
        rows = library.catalog.photos.by_labels([top[0][0]])
        hits_upright += os.path.basename(rows[top[0][0]].path) == f"{name}.jpg"
        # the best of four views scores at least as high as the upright view alone
        assert got[0].score >= top[0][1] - 1e-5
    assert hits_views == 6 and hits_views >= hits_upright


def test_query_expansion_option_ranks_and_leaves_the_query_out(library, photo_set):
    library.add_folder(photo_set)
    library.update()
    query = library.search.query(photo_set / "originals" / "coffee.jpg")
    vec, own = query.vectors[0], query.own_id
    label = library.catalog.embeddings.of_photo(own, library.embedder.model_id).label
    qe = Searcher(library.space.index, library.space.stored_vectors, SearchOptions(qe=2, rotations=False))
    got = qe.rank(vec, 5, {label})
    assert label not in [l for l, _ in got] and len(got) == 5
    rows = library.catalog.photos.by_labels([l for l, _ in got])
    names = [os.path.basename(rows[l].path) for l, _ in got[:3]]
    assert all(n.startswith("coffee-") for n in names), names
    assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
