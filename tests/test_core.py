"""The engine end to end: real model, real SQLite catalogue, real hnswlib index."""

from __future__ import annotations

import os

import numpy as np
import pytest

import dbutil

from photofinder.library import Library, LibraryError


def names(matches):
    return [os.path.basename(m.path) for m in matches]


def test_edited_copies_find_their_original_first(library, photo_set):
    library.add_folder(photo_set / "originals")
    library.update()
    for kind in ("resized", "cropped", "recompressed"):
        for name in ("astronaut", "coffee", "chelsea", "rocket"):
            got = library.similar(photo_set / "edited" / f"{name}-{kind}.jpg", top=3)
            assert names(got)[0] == f"{name}.jpg", (kind, name, names(got))
            assert got[0].score > 0.8


def test_results_best_first_and_query_left_out(library, photo_set):
    library.add_folder(photo_set)
    library.update()
    q = photo_set / "originals" / "coffee.jpg"
    got = library.similar(q, top=10)
    assert str(q) not in [m.path for m in got]
    scores = [m.score for m in got]
    assert scores == sorted(scores, reverse=True)
    assert {"coffee-resized.jpg", "coffee-cropped.jpg", "coffee-recompressed.jpg"} == set(names(got)[:3])


def test_adding_same_folder_twice_adds_nothing(library, photo_set):
    library.add_folder(photo_set / "originals")
    library.update()
    before = library.catalog.photos.counts()
    library.add_folder(photo_set / "originals")
    report, prog = library.update()
    assert report.new == 0 and prog.done == 0
    assert library.catalog.photos.counts() == before
    assert len(library.folders()) == 1
    assert len(library.space.index) == before["indexed"]


def test_removing_a_folder_removes_its_photos_from_results(library, photo_set):
    library.add_folder(photo_set / "originals")
    library.add_folder(photo_set / "edited")
    library.update()
    q = photo_set / "originals" / "rocket.jpg"
    assert any("edited" in m.path for m in library.similar(q, top=5))
    library.remove_folder(photo_set / "edited")
    got = library.similar(q, top=50)
    assert got and not any("edited" in m.path for m in got)
    assert library.catalog.photos.counts()["indexed"] == 10


def test_deleted_index_rebuilds_from_stored_vectors_without_reembedding(tmp_path, photo_set, model):
    lib = Library(tmp_path / "lib")
    lib.add_folder(photo_set)
    lib.update()
    q = photo_set / "edited" / "chelsea-cropped.jpg"
    before = [(m.path, round(m.score, 4)) for m in lib.similar(q, top=8)]
    indexed_at = {r["id"]: r["indexed_at"] for r in dbutil.rows(lib, "SELECT id, indexed_at FROM photos")}
    lib.close()
    os.unlink(tmp_path / "lib" / "index.hnsw")
    lib = Library(tmp_path / "lib")
    after = [(m.path, round(m.score, 4)) for m in lib.similar(q, top=8)]
    assert lib.space.index.rebuilt
    assert after == before
    report, prog = lib.update()
    assert prog.done == 0  # nothing embedded again
    assert {r["id"]: r["indexed_at"] for r in dbutil.rows(lib, "SELECT id, indexed_at FROM photos")} == indexed_at
    lib.close()


def test_damaged_index_file_is_rebuilt(tmp_path, photo_set, model):
    lib = Library(tmp_path / "lib")
    lib.add_folder(photo_set / "originals")
    lib.update()
    lib.close()
    (tmp_path / "lib" / "index.hnsw").write_bytes(b"garbage" * 100)
    lib = Library(tmp_path / "lib")
    got = lib.similar(photo_set / "edited" / "camera-resized.jpg", top=1)
    assert names(got) == ["camera.jpg"]
    lib.close()


def test_similar_on_a_missing_file_is_a_user_error(library):
    with pytest.raises(LibraryError, match="no such file"):
        library.similar("/nonexistent/photo.jpg")


def test_stored_vectors_are_float16_unit_vectors(library, photo_set):
    library.add_folder(photo_set / "originals")
    library.update()
    rows = dbutil.rows(library, "SELECT vector FROM embeddings")
    assert len(rows) == 10
    for r in rows:
        v = np.frombuffer(r["vector"], np.float16).astype(np.float32)
        assert v.shape == (1280,)
        assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-2
