"""The runtime model: an onnxruntime session over the exported ONNX file.

The manifest beside the model names its sha256, which is checked before the model is loaded.
Provider: CUDA when onnxruntime offers it, else CPU; the choice is logged and reported.
"""

from __future__ import annotations

from photofinder.errors import PhotofinderError

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

from photofinder.paths import model_dir

log = logging.getLogger(__name__)

MODEL_NAME = "efficientnet-lite2-gem"
MODEL_FILE = "model.onnx"
MANIFEST = "manifest.json"
BUILD_HINT = "the model is not built yet: run `photofinder model build`"


class ModelError(PhotofinderError):
    """The model is missing, damaged or cannot run; the message is one line for the user."""


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(folder: Path | None = None) -> dict:
    folder = Path(folder) if folder else model_dir(MODEL_NAME)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise ModelError(BUILD_HINT) from None
    except (OSError, ValueError) as e:
        raise ModelError(f"the model manifest in {folder} is unreadable ({e}); "
                         "run `photofinder model build`") from None
    if not (folder / manifest.get("file", MODEL_FILE)).is_file():
        raise ModelError(BUILD_HINT)
    return manifest


def choose_providers(prefer: str | None = None) -> list[str]:
    """CUDA when available (and not refused by ``PHOTOFINDER_PROVIDER=cpu``), else CPU."""
    import onnxruntime as ort

    prefer = (prefer or os.environ.get("PHOTOFINDER_PROVIDER", "auto")).lower()
    available = ort.get_available_providers()
    if prefer != "cpu" and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


class Embedder:
    """Batched inference. ``embed`` takes CHW float32 arrays of any (model-contract) size."""

    def __init__(self, folder: Path | None = None, threads: int | None = None,
                 provider: str | None = None):
        import onnxruntime as ort

        self.folder = Path(folder) if folder else model_dir(MODEL_NAME)
        self.manifest = read_manifest(self.folder)
        path = self.folder / self.manifest["file"]
        if file_sha256(path) != self.manifest["sha256"]:
            raise ModelError(f"the model file {path} does not match its manifest's sha256; "
                             "run `photofinder model build` again")
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if threads:
            opts.intra_op_num_threads = threads
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=choose_providers(provider))
        except Exception as e:  # onnxruntime raises its own untyped errors
            raise ModelError(f"the model could not be loaded ({str(e).splitlines()[0]}); "
                             "run `photofinder model build` again") from None
        active = self.session.get_providers()
        self.provider = "CUDA" if active and active[0] == "CUDAExecutionProvider" else "CPU"
        log.info("embedding with %s on the %s provider", self.manifest["name"], self.provider)
        self.input_name = self.session.get_inputs()[0].name
        self.dim = int(self.manifest["dim"])

    @property
    def model_id(self) -> str:
        return f"{self.manifest['name']}@{self.manifest['sha256'][:12]}"

    def embed(self, arrays: list[np.ndarray]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per input, in input order.

        Inputs of the same size run as one batch; a mixed batch runs one call per size.
        """
        out = np.empty((len(arrays), self.dim), dtype=np.float32)
        by_shape: dict[tuple, list[int]] = {}
        for i, a in enumerate(arrays):
            by_shape.setdefault(a.shape, []).append(i)
        for idx in by_shape.values():
            batch = np.stack([arrays[i] for i in idx])
            out[idx] = self.session.run(None, {self.input_name: batch})[0]
        return out
