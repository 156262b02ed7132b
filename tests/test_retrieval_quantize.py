"""The build-time int8 quantiser produces a working model with its own manifest. Whether it
is used is decided by benchmarks/evaluate_settings.py (it is not: cosine ~0.90 to float)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from samples import sample_images


@pytest.mark.slow
def test_int8_copy_runs_and_says_what_it_is(tmp_path, model, embedder):
    from photofinder.pixels.embedding import preprocess, quantize
    from photofinder.pixels.embedding.model import Embedder

    imgs = list(sample_images().values())
    manifest = quantize.quantize(embedder.folder, tmp_path / "int8",
                                 quantize.calibration_arrays(imgs[:6]))
    assert manifest["quantisation"]["float_sha256"] == embedder.manifest["sha256"]
    assert json.loads((tmp_path / "int8" / "manifest.json").read_text()) == manifest
    int8 = Embedder(tmp_path / "int8", provider="cpu")
    assert int8.model_id != embedder.model_id  # another model: never mixed in one library
    arrays = [preprocess.prepare(im) for im in imgs[6:]]
    a, b = embedder.embed(arrays), int8.embed(arrays)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-4)
    cos = np.sum(a * b, axis=1)
    assert (cos > 0.5).all()  # the same pictures, roughly: see the benchmark for how roughly
    with pytest.raises(Exception):
        quantize.quantize(embedder.folder, tmp_path / "none", [])
