"""Execution providers and precision: CUDA when it can run, a clear one-line error for
`--provider cuda` where it cannot, one warning line and the CPU when its libraries are missing,
fp16 only where it keeps cosine >= 0.999 against fp32. The real model and real sessions.

This machine has no GPU: the CUDA run itself is not tested here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from photofinder.pixels.embedding import precision, providers
from photofinder.pixels.embedding.model import Embedder, ModelError

ROOT = Path(__file__).resolve().parents[1]


def cuda_offered() -> bool:
    import onnxruntime as ort

    return providers.CUDA in ort.get_available_providers()


def pf(*args, env=None):
    return subprocess.run([sys.executable, "-m", "photofinder", *args], check=False,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def test_cpu_is_chosen_and_said(model, tmp_path):
    emb = Embedder(provider="cpu")
    assert emb.provider == "CPU" and emb.precision == "fp32"
    assert emb.batch_size == 8 and emb.decode_workers >= 2
    r = pf("--library", str(tmp_path / "lib"), "status", "--json")
    assert r.returncode == 0 and '"provider": "CPU"' in r.stdout
    if not cuda_offered():
        assert r.stderr == ""  # no provider noise on a machine without CUDA


@pytest.mark.skipif(cuda_offered(), reason="this onnxruntime offers CUDA")
def test_provider_cuda_fails_in_one_line_without_cuda(model, tmp_path):
    with pytest.raises(ModelError, match="--provider cuda: CUDA cannot be used"):
        Embedder(provider="cuda")
    photo = ROOT / "resources" / "demo" / "camera.jpg"
    r = pf("--provider", "cuda", "--library", str(tmp_path / "lib"), "similar", str(photo))
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "CUDA cannot be used" in r.stderr
    assert "photofinder[gpu]" in r.stderr and "Traceback" not in r.stderr
    r = pf("--library", str(tmp_path / "lib"), "similar", str(photo),
           env={"PHOTOFINDER_PROVIDER": "cuda"})
    assert r.returncode == 1 and "CUDA cannot be used" in r.stderr
    r = pf("--library", str(tmp_path / "lib"), "similar", str(photo),
           env={"PHOTOFINDER_PROVIDER": "tpu"})
    assert r.returncode == 1 and "unknown provider 'tpu'" in r.stderr


def test_a_cuda_session_that_ends_on_the_cpu(caplog):
    """What onnxruntime-gpu does when the CUDA libraries are missing: the session runs on the
    CPU. `auto` says so in one line; `cuda` is an error."""
    asked, active = [providers.CUDA, providers.CPU], [providers.CPU]
    with caplog.at_level("WARNING"):
        assert providers.check("auto", asked, active) == "CPU"
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "CUDA is not usable here" in lines[0] and "\n" not in lines[0]
    with pytest.raises(providers.ProviderError, match="--provider cuda: CUDA cannot be used"):
        providers.check("cuda", asked, active)
    assert providers.check("auto", asked, [providers.CUDA, providers.CPU]) == "CUDA"
    assert providers.check("cpu", [providers.CPU], [providers.CPU]) == "CPU"
    assert providers.decode_workers("CUDA") > providers.decode_workers("CPU") - 1
    assert providers.batch_size("CUDA") > providers.batch_size("CPU")


@pytest.mark.skipif(not cuda_offered(), reason="onnxruntime-gpu is not installed here")
def test_onnxruntime_gpu_runs_or_falls_back_in_one_line(model, tmp_path):
    photo = ROOT / "resources" / "demo" / "camera.jpg"
    r = pf("--library", str(tmp_path / "lib"), "status", "--json")
    assert r.returncode == 0, r.stderr
    if '"provider": "CPU"' in r.stdout:  # libraries or GPU missing
        assert r.stderr.count("\n") == 1 and "CUDA is not usable here" in r.stderr
        r = pf("--provider", "cuda", "--library", str(tmp_path / "lib"), "similar", str(photo))
        assert r.returncode == 1 and r.stderr.count("\n") == 1
    else:
        assert '"provider": "CUDA"' in r.stdout


def test_fp16_is_used_only_where_it_keeps_the_embeddings(model, tmp_path):
    """The fp16 copy against fp32 on the demo photos, on the CPU provider here (a GPU runs
    the same check on itself)."""
    pytest.importorskip("onnx")
    import shutil

    import onnxruntime as ort

    emb = Embedder(provider="cpu")
    folder = tmp_path / "model"
    shutil.copytree(emb.folder, folder)

    def session(path):
        return ort.InferenceSession(str(path), providers=[providers.CPU])

    reference = session(folder / emb.manifest["file"])
    half = precision.choose(folder, emb.manifest, reference, session, "CPU-test")
    check = (folder / precision.CHECK_FILE).read_text()
    worst = precision.min_cosine(reference, session(folder / precision.FP16_FILE),
                                 precision.sample_inputs())
    assert len(precision.sample_inputs()) >= 5
    assert 0.99 < worst <= 1.0 and f"{round(worst, 6)}" in check
    assert (half is not None) == (worst >= precision.MIN_COSINE)
    if half is not None:  # its outputs are float32 (the model's contract) and close
        x = precision.sample_inputs()[0][None]
        a = reference.run(None, {reference.get_inputs()[0].name: x})[0]
        b = half.run(None, {half.get_inputs()[0].name: x})[0]
        assert b.dtype == np.float32 and float((a * b).sum()) >= precision.MIN_COSINE
    # a stricter bar than the copy meets: fp32 stays
    assert precision.choose(folder, emb.manifest, reference, session, "CPU-test",
                            threshold=1.0 + 1e-9) is None
