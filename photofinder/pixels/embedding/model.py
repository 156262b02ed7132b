"""The runtime model: an onnxruntime session over the exported ONNX file.

The manifest beside the model names its sha256, which is checked before the model is loaded.
Provider: CUDA when onnxruntime offers it, else CPU; the choice is logged and reported.
"""

from __future__ import annotations

from photofinder.errors import PhotofinderError

import json
import logging
import os
import sys
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from photofinder.checksums import file_sha256
from photofinder.paths import model_dir
from photofinder.pixels.embedding import precision, providers

log = logging.getLogger(__name__)

MODEL_NAME = "efficientnet-lite2-gem"
MODEL_FILE = "model.onnx"
MANIFEST = "manifest.json"
CLASSES_OUTPUT = "classes"
HEAD_FILE = "head.npz"
BUILD_HINT = "the model is not built yet: run `photofinder model build`"


class ModelError(PhotofinderError):
    """The model is missing, damaged or cannot run; the message is one line for the user."""


def default_folder() -> Path:
    """The model in the user data dir; in a bundle (packaging/photofinder.spec) without one
    there, the model shipped inside the bundle."""
    user = model_dir(MODEL_NAME)
    base = getattr(sys, "_MEIPASS", None)
    if base and not (user / MANIFEST).is_file():
        shipped = Path(base) / "photofinder" / "models" / MODEL_NAME
        if (shipped / MANIFEST).is_file():
            return shipped
    return user


def read_manifest(folder: Path | None = None) -> dict:
    folder = Path(folder) if folder else default_folder()
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
    """CUDA when available (and not refused by ``PHOTOFINDER_PROVIDER=cpu``), else CPU;
    ``cuda`` where it cannot be had is a ModelError (providers.py)."""
    try:
        return providers.plan(prefer)
    except providers.ProviderError as e:
        raise ModelError(str(e)) from None


class Embedder:
    """Batched inference. ``embed`` takes CHW float32 arrays of any (model-contract) size."""

    def __init__(self, folder: Path | None = None, threads: int | None = None,
                 provider: str | None = None):
        import onnxruntime as ort

        self.folder = Path(folder) if folder else default_folder()
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
        asked = choose_providers(provider)

        def session(file: Path) -> ort.InferenceSession:
            with providers.quiet_onnxruntime() if providers.CUDA in asked else nullcontext():
                return ort.InferenceSession(str(file), opts, providers=asked)

        try:
            self.session = session(path)
        except Exception as e:  # onnxruntime raises its own untyped errors
            if providers.CUDA in asked and providers.requested(provider) == "cuda":
                raise ModelError(f"--provider cuda: CUDA cannot be used: {str(e).splitlines()[0]}") from None
            raise ModelError(f"the model could not be loaded ({str(e).splitlines()[0]}); "
                             "run `photofinder model build` again") from None
        try:
            self.provider = providers.check(provider, asked, self.session.get_providers())
        except providers.ProviderError as e:
            raise ModelError(str(e)) from None
        self.precision = "fp32"
        if self.provider == "CUDA" and os.environ.get("PHOTOFINDER_FP16", "1") != "0":
            half = precision.choose(self.folder, self.manifest, self.session, session, "CUDA")
            if half is not None:
                self.session, self.precision = half, "fp16"
        self.decode_workers = providers.decode_workers(self.provider)
        self.batch_size = providers.batch_size(self.provider)
        log.info("embedding with %s on the %s provider", self.manifest["name"], self.provider)
        self.input_name = self.session.get_inputs()[0].name
        self.dim = int(self.manifest["dim"])
        outputs = [o.name for o in self.session.get_outputs()]
        self.embedding_output = self.manifest.get("output", {}).get("name", outputs[0])
        # a model built before the class output existed has none (tags need a rebuild)
        self.has_classes = CLASSES_OUTPUT in outputs
        self._head: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def model_id(self) -> str:
        """The embedding's id: the hash of the embedding-only graph (export.py), the same
        before and after the model gained its class output, so no library is re-embedded."""
        sha = self.manifest.get("embedding_sha256") or self.manifest["sha256"]
        return f"{self.manifest['name']}@{sha[:12]}"

    @property
    def classes_id(self) -> str | None:
        """The class output's own id (None for a model without one)."""
        if not self.has_classes:
            return None
        return f"{self.manifest['name']}-imagenet@{self.manifest['sha256'][:12]}"

    def head(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The ImageNet head's (weight (1000, d), bias (1000,)) as float32, from the file the
        export wrote beside the model (checked against the manifest); None for a model
        built without it."""
        if self._head is None:
            info = self.manifest.get("head")
            if not info:
                return None
            path = self.folder / info["file"]
            if not path.is_file() or file_sha256(path) != info["sha256"]:
                return None
            with np.load(path, allow_pickle=False) as z:
                self._head = (z["weight"].astype(np.float32), z["bias"].astype(np.float32))
        return self._head

    def embed(self, arrays: list[np.ndarray]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per input, in input order.

        Inputs of the same size run as one batch; a mixed batch runs one call per size.
        """
        return self._run(arrays, [self.embedding_output])[0]

    def embed_and_classify(self, arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        """``embed``'s vectors and, from the same pass, the ImageNet-1k class probabilities
        (n, 1000) float32; None for a model built without the class output."""
        if not self.has_classes:
            return self.embed(arrays), None
        vectors, probs = self._run(arrays, [self.embedding_output, CLASSES_OUTPUT])
        return vectors, probs

    def _run(self, arrays: list[np.ndarray], names: list[str]) -> list[np.ndarray]:
        by_shape: dict[tuple, list[int]] = {}
        for i, a in enumerate(arrays):
            by_shape.setdefault(a.shape, []).append(i)
        out: list[np.ndarray] = []
        for idx in by_shape.values():
            got = [np.asarray(g) for g in
                   self.session.run(names, {self.input_name: np.stack([arrays[i] for i in idx])})]
            if not out:
                out = [np.empty((len(arrays), g.shape[1]), np.float32) for g in got]
            for o, g in zip(out, got):
                o[idx] = g
        if not out:
            out = [np.empty((0, self.dim), np.float32) for _ in names]
        return out
