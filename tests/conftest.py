"""Shared fixtures: the real model (built once per test session into a private data dir),
real photos (scikit-image's samples and generated edits), real libraries."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from samples import edits, sample_images  # noqa: F401  (tests import them from samples)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "testdata"


@pytest.fixture(scope="session", autouse=True)
def data_dir(tmp_path_factory):
    """A private user data dir for the whole run (no model in it: tests that need the model
    ask for the ``model`` fixture)."""
    d = tmp_path_factory.mktemp("pfdata")
    old = os.environ.get("PHOTOFINDER_DATA")
    os.environ["PHOTOFINDER_DATA"] = str(d)
    os.environ.pop("PHOTOFINDER_LIBRARY", None)
    yield d
    if old is None:
        os.environ.pop("PHOTOFINDER_DATA", None)
    else:
        os.environ["PHOTOFINDER_DATA"] = old


@pytest.fixture(scope="session")
def model(data_dir):
    """The real model, built once per run into the private data dir (or copied from
    ``$PHOTOFINDER_TEST_MODEL_DIR``, a model built before, to save the export)."""
    from photofinder.paths import model_dir
    from photofinder.pixels.embedding.model import MODEL_NAME

    cached = os.environ.get("PHOTOFINDER_TEST_MODEL_DIR")
    if cached and (Path(cached) / "manifest.json").exists():
        shutil.copytree(cached, model_dir(MODEL_NAME), dirs_exist_ok=True)
    else:
        from photofinder.pixels.embedding.export import export

        export(progress=lambda m: None)
    return model_dir(MODEL_NAME)


@pytest.fixture(autouse=True)
def model_only_where_asked(request, data_dir):
    """A test that does not ask for ``model`` runs without one (so the suite says which
    tests need it, and the others need no torch and no export)."""
    if "model" in request.fixturenames:
        yield
        return
    models, hidden = data_dir / "models", data_dir / ".models-hidden"
    if models.exists():
        models.rename(hidden)
    try:
        yield
    finally:
        if hidden.exists():
            hidden.rename(models)


@pytest.fixture(scope="session")
def embedder(model):
    from photofinder.pixels.embedding.model import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def photo_set(tmp_path_factory) -> Path:
    """originals/NAME.jpg and edited/NAME-{resized,cropped,recompressed}.jpg"""
    root = tmp_path_factory.mktemp("photos")
    (root / "originals").mkdir()
    (root / "edited").mkdir()
    for name, img in sample_images().items():
        img.save(root / "originals" / f"{name}.jpg", quality=92)
        for kind, e in edits(img).items():
            e.save(root / "edited" / f"{name}-{kind}.jpg", quality=60 if kind == "recompressed" else 88)
    return root


@pytest.fixture
def library(tmp_path, model):
    from photofinder.library import Library

    lib = Library(tmp_path / "library")
    yield lib
    lib.close()


@pytest.fixture
def shared_testdata() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/testdata is not present")
    return SHARED
