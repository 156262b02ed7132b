"""Learning from the library (issue 14): marks on Find similar results, the learned
projection (versioned, re-derived from stored vectors, switchable off), the map's coordinates.
Real photos (scikit-image samples and their edits, holidays-dev when present), the real
model, real SQLite and hnswlib."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from photofinder.library import LearnError, Library, LibraryError
from photofinder.retrieval import learn
from photofinder.retrieval import map as M

EVALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "evaldata" / "holidays-dev"


@pytest.fixture
def indexed(tmp_path, model, photo_set):
    lib = Library(tmp_path / "lib")
    lib.add_folder(photo_set)
    lib.update()
    yield lib, photo_set
    lib.close()


def _order(matches):
    return [m.path for m in matches]


def test_marks_rerank_the_query_at_once_and_are_remembered(indexed, tmp_path):
    lib, root = indexed
    q = str(root / "originals" / "coffee.jpg")
    before = lib.similar(q, top=39)
    assert before[0].path.endswith(("coffee-resized.jpg", "coffee-cropped.jpg",
                                    "coffee-recompressed.jpg"))
    low = before[20]        # far down the list: the user says it IS similar
    top = before[0]         # the best: the user says it is not
    lib.mark_result(q, low.path, "similar")
    after = lib.similar(q, top=39)
    assert after[0].path == low.path and after[0].mark == "similar"
    lib.mark_result(q, top.path, "not_similar")
    after = lib.similar(q, top=39)
    assert after[-1].path == top.path and after[-1].mark == "not_similar"
    assert after[0].path == low.path
    # the rest moves too (the query moved towards the confirmed photo), not just the pins
    rest_before = [p for p in _order(before) if p not in (low.path, top.path)]
    rest_after = [p for p in _order(after) if p not in (low.path, top.path)]
    assert sorted(rest_before) == sorted(rest_after) and rest_before != rest_after
    # stored as decisions: another Library (another process) sees them
    with Library(lib.path) as other:
        assert _order(other.similar(q, top=39)) == _order(after)
    # other queries are untouched
    q2 = str(root / "originals" / "rocket.jpg")
    assert all(m.mark is None for m in lib.similar(q2, top=39))
    # forgetting them gives the plain ranking back
    lib.mark_result(q, low.path, None)
    lib.mark_result(q, top.path, None)
    assert _order(lib.similar(q, top=39)) == _order(before)
    with pytest.raises(LibraryError):
        lib.mark_result(q, low.path, "maybe")
    with pytest.raises(LibraryError):
        lib.mark_result(q, str(tmp_path / "nowhere.jpg"), "similar")


def test_training_is_versioned_rederived_without_reembedding_and_switches_off(indexed):
    lib, root = indexed
    model = lib.embedder.model_id
    q = str(root / "originals" / "chelsea.jpg")
    plain = lib.similar(q, top=10)
    labels = sorted(lib.catalog.embeddings.labels(model))
    vectors = lib.space.stored_vectors(labels)
    # a "not a copy" decision teaches the duplicate check only: never a training pair
    lib.not_duplicates(str(root / "originals" / "coffee.jpg"),
                       str(root / "edited" / "coffee-cropped.jpg"))
    seen = []
    report = lib.train_projection(progress=lambda s, d, t: seen.append((s, d, t)),
                                  max_photos=25)
    assert report["similar_marks"] == 0 and report["not_similar_marks"] == 0
    assert report["photos_edited"] == 25 and report["edited_pairs"] == 50
    assert any(s == "editing photos" and d == t == 25 for s, d, t in seen)
    status = lib.status().projection
    assert status["kind"] == "learned" and status["version"].startswith("learned-1280x1280@")
    assert lib.space.index.space == status["version"] and len(lib.space.index) == len(labels)
    # nothing was embedded again: the same stored vectors, the same labels
    assert sorted(lib.catalog.embeddings.labels(model)) == labels
    assert np.array_equal(lib.space.stored_vectors(labels), vectors)
    # every original still finds its three edited copies first (they were in the library)
    for name in ("chelsea", "astronaut", "rocket", "coins"):
        got = lib.similar(str(root / "originals" / f"{name}.jpg"), top=3)
        assert all(os.path.basename(m.path).startswith(name + "-") for m in got), got
    # a new Library loads the learned projection, and the index file built with it
    with Library(lib.path) as other:
        assert other.space.projection().version == status["version"]
        assert other.space.index.space == status["version"] and not other.space.index.rebuilt
    # a refit of the whitening does not overwrite it; switching off goes back to plain
    assert lib.projections.refit() is False
    off = lib.projection_off()
    assert off["kind"] == "pca-axes"  # plain again: the shipped axes, ranked by cosine
    again = lib.similar(q, top=10)
    assert _order(again) == _order(plain)
    assert np.allclose([m.score for m in again], [m.score for m in plain], atol=1e-5)


def test_closed_form_fit_needs_no_torch_and_the_torch_finetune_stays_near(indexed):
    lib, _ = indexed
    ts = learn.training_set(lib.catalog, lib.embedder.model_id, lib.embedder, max_photos=20)
    p = learn.fit(ts, use_torch=False)
    assert p.kind == "learned" and p.matrix.shape == (1280, 1280)
    from photofinder.retrieval import projection as P

    assert P.load(p.to_bytes()).version == p.version  # stored as plain arrays
    if not learn.torch_available():
        pytest.skip("torch (the export extra) is not installed")
    w0 = p.matrix.astype(np.float64)
    w = learn.finetune(w0, p.mean, ts, steps=5)
    assert w.shape == w0.shape and not np.allclose(w, w0)
    assert np.linalg.norm(w - w0) < 0.1 * np.linalg.norm(w0)


def test_too_small_a_library_says_why(tmp_path, model, photo_set):
    with Library(tmp_path / "small") as lib:
        lib.add_folder(photo_set / "originals")
        lib.update()
        with pytest.raises(LearnError, match="learning needs"):
            lib.train_projection()


def test_map_coordinates_are_cached_and_new_photos_placed_near_their_kind(
        tmp_path, model, photo_set):
    pytest.importorskip("openTSNE")
    folder = tmp_path / "photos"
    shutil.copytree(photo_set, folder)
    extra = folder / "edited" / "coffee-cropped.jpg"
    later = tmp_path / "later.jpg"
    shutil.move(extra, later)
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(folder)
        lib.update()
        m = lib.map_coordinates()
        assert len(m.paths) == 39 and m.xy.shape == (39, 2)
        assert m.xy.min() >= 0 and m.xy.max() <= M.SCALE + 1e-3
        assert (lib.path / "map.npz").exists()
        assert np.array_equal(lib.map_coordinates().xy, m.xy)  # from the cache
        # a new photo: placed among its kind, the others stay where they were
        shutil.move(later, extra)
        lib.update()
        m2 = lib.map_coordinates()
        assert len(m2.paths) == 40
        where = dict(zip(m2.paths, m2.xy))
        assert all(np.allclose(where[p], xy) for p, xy in zip(m.paths, m.xy))
        coffee = [where[p] for p in m2.paths if "coffee" in os.path.basename(p)
                  and p != str(extra)]
        d_own = min(np.linalg.norm(where[str(extra)] - c) for c in coffee)
        d_all = np.median([np.linalg.norm(where[str(extra)] - xy) for xy in m2.xy])
        assert d_own < d_all
        assert M.MapCoordinates.load(lib.path / "map.npz").computed == 39


@pytest.mark.slow
def test_learning_never_hurts_find_similar_on_its_groups_nor_on_held_out_ones(tmp_path, model):
    """holidays-dev split by group: the library learns from groups 1000-1049 only; they,
    and groups 1050-1099 (never seen in training), rank no worse than in the same library
    untrained. (Before Find similar's database-side augmentation, issue 24, learning lifted
    the held-out groups; with it the untrained search already reaches what learning gave,
    .9139 against .9133 held out and .9355 against .9329 on the groups it learned from: the
    claim this test can keep is "no worse", and the closing note says so.)"""
    if not EVALDATA.is_dir():
        pytest.skip("../shared/evaldata/holidays-dev is not present")
    train, held = tmp_path / "train", tmp_path / "held"
    for g in sorted(os.listdir(EVALDATA)):
        if (EVALDATA / g).is_dir():
            shutil.copytree(EVALDATA / g, (train if int(g) < 1050 else held) / g)
    base = tmp_path / "base"
    with Library(base) as lib:
        lib.add_folder(train)
        lib.update()
    shutil.copytree(base, tmp_path / "learned")
    with Library(base) as lib:
        seen_before = lib.evaluate(train).as_dict()
        before = lib.evaluate(held).as_dict()
    with Library(tmp_path / "learned") as lib:
        lib.train_projection()
        seen_after = lib.evaluate(train).as_dict()
        after = lib.evaluate(held).as_dict()
    assert after["photos"] == before["photos"] == 134
    assert seen_after["map"] >= seen_before["map"] - 0.005, (seen_before["map"], seen_after["map"])
    assert after["map"] >= before["map"] - 0.005, (before["map"], after["map"])


def test_cli_learn_and_off(indexed, capsys):
    import json

    from photofinder.cli.main import main

    lib, _ = indexed
    lib.close()  # the CLI is another writer
    assert main(["--library", str(lib.path), "learn", "--json", "--photos", "20"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["version"].startswith("learned-") and out["photos_edited"] == 20
    assert main(["--library", str(lib.path), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["projection"]["version"] == out["version"]
    assert main(["--library", str(lib.path), "learn", "--off", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "pca-axes"
