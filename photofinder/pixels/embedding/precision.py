"""Half precision on a GPU, only where it keeps the embeddings: an fp16 copy of the model
(float32 inputs and outputs, float16 inside) is used when, on this provider, every demo photo
embeds to within cosine ``MIN_COSINE`` of the fp32 model. The verdict is kept beside the model,
keyed by both models' hashes and the provider, so it is measured once per machine.

Making the fp16 copy needs the ``onnx`` package (the export extra); without it, and wherever
the check fails, the fp32 model runs.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image, ImageOps

from photofinder import assets
from photofinder.checksums import file_sha256
from photofinder.pixels.embedding import preprocess

log = logging.getLogger(__name__)
Session = TypeVar("Session")  # an onnxruntime.InferenceSession (onnxruntime is imported late)

FP16_FILE = "model-fp16.onnx"
CHECK_FILE = "fp16-check.json"
MIN_COSINE = 0.999


def convert(folder: Path, manifest: dict) -> Path | None:
    """Write the fp16 copy of the model beside it (once); None when onnx is not installed or
    the folder cannot be written."""
    target = Path(folder) / FP16_FILE
    if target.is_file():
        return target
    try:
        import onnx
        from onnxruntime.transformers.float16 import convert_float_to_float16
    except ImportError as e:
        log.info("no fp16 model: %s is not installed (the export extra)", e.name)
        return None
    model = onnx.load(str(Path(folder) / manifest["file"]))
    half = convert_float_to_float16(model, keep_io_types=True)
    tmp = target.with_name(target.name + ".tmp")
    try:
        onnx.save(half, str(tmp))
        os.replace(tmp, target)
    except OSError as e:
        log.info("no fp16 model: cannot write %s (%s)", target, e.strerror)
        return None
    return target


def sample_inputs() -> list[np.ndarray]:
    """The model inputs of the demo photos shipped with photofinder (real photos)."""
    out = []
    for p in assets.demo_originals():
        with Image.open(p) as im:
            out.append(preprocess.prepare(ImageOps.exif_transpose(im).convert("RGB")))
    return out


def min_cosine(reference, candidate, inputs: list[np.ndarray]) -> float:
    """The lowest cosine between the two sessions' outputs over ``inputs`` (one at a time:
    the photos differ in size)."""
    worst = 1.0
    for a in inputs:
        x = a[None]
        r = reference.run(None, {reference.get_inputs()[0].name: x})[0][0].astype(np.float64)
        c = candidate.run(None, {candidate.get_inputs()[0].name: x})[0][0].astype(np.float64)
        cos = float(r @ c / max(np.linalg.norm(r) * np.linalg.norm(c), 1e-12))
        worst = min(worst, cos)
    return worst


def choose(folder: Path, manifest: dict, reference, make_session: Callable[[Path], Session],
           provider_key: str, threshold: float = MIN_COSINE) -> Session | None:
    """An fp16 session when it keeps cosine >= ``threshold`` against ``reference`` here,
    else None (the caller keeps fp32)."""
    folder = Path(folder)
    path = convert(folder, manifest)
    if path is None:
        return None
    key = f"{manifest['sha256'][:16]}:{file_sha256(path)[:16]}:{provider_key}"
    cache_file = folder / CHECK_FILE
    try:
        cache = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        cache = {}
    try:
        candidate = make_session(path)
    except Exception as e:  # noqa: BLE001 - onnxruntime's own errors: stay on fp32
        log.info("the fp16 model does not load here (%s); using fp32", str(e).splitlines()[0])
        return None
    entry = cache.get(key)
    if entry is None or entry.get("threshold") != threshold:
        worst = min_cosine(reference, candidate, sample_inputs())
        entry = {"min_cosine": round(worst, 6), "threshold": threshold, "use": worst >= threshold}
        cache[key] = entry
        try:
            cache_file.write_text(json.dumps(cache, indent=1, sort_keys=True))
        except OSError:
            pass  # a read-only model folder (a bundle): measured again next start
    log.info("fp16 on %s: lowest cosine to fp32 %.6f -> %s", provider_key, entry["min_cosine"],
             "fp16" if entry["use"] else "fp32")
    return candidate if entry["use"] else None
