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


def test_augmentation_lifts_a_result_whose_nearest_photo_is_the_query(library, photo_set):
    """DBA (retrieval/augment.py) on real vectors: the query's edited copies stay on top,
    the query stays out, scores stay best first, and a result whose nearest photo is the
    query itself scores no lower than its plain cosine (the two are each other's nearest)."""
    library.add_folder(photo_set)
    library.update()
    query = library.search.query(photo_set / "originals" / "coffee.jpg")
    label = library.catalog.embeddings.of_photo(query.own_id, library.embedder.model_id).label
    space = library.space
    plain = Searcher(space.index, space.stored_vectors, SearchOptions(dba=0)).rank(
        query.vectors, 8, {label})
    aug = Searcher(space.index, space.stored_vectors, SearchOptions()).rank(
        query.vectors, 8, {label})
    assert label not in [l for l, _ in aug] and len(aug) == 8
    assert [s for _, s in aug] == sorted((s for _, s in aug), reverse=True)
    rows = library.catalog.photos.by_labels([l for l, _ in aug])
    assert all(os.path.basename(rows[l].path).startswith("coffee-") for l, _ in aug[:3])
    before = dict(plain)
    graph, _ = space.index.search_many(space.stored_vectors([l for l, _ in aug[:3]]), 3)
    for (l, s), near in zip(aug[:3], graph):
        others = [int(x) for x in near if int(x) != l]
        if others and others[0] == label:  # its nearest is the query: it can only rise
            assert s >= before[l] - 1e-5


def test_augmented_scores_follow_the_neighbour_weight():
    """augment.augmented: no neighbour (cosine 0) leaves the cosine as it was; a neighbour
    that is the query lifts it; one far from the query lowers it."""
    import numpy as np

    from photofinder.retrieval import augment

    rng = np.random.default_rng(0)
    q, r, far = augment.unit(rng.standard_normal((3, 64)))
    r = augment.unit(q + 0.8 * r)
    base = float(r @ q)
    same = augment.augmented(q[None], r[None], r[None], np.array([0.0]))[0]
    up = augment.augmented(q[None], r[None], q[None], np.array([float(q @ r)]))[0]
    down = augment.augmented(q[None], r[None], far[None], np.array([0.9]))[0]
    assert abs(same - base) < 1e-5 and up > base and down < base
