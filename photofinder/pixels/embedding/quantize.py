"""Build time only: static int8 quantisation of the exported model (QDQ, per-channel weights,
activations calibrated on real photos). EfficientNet-Lite was designed for int8; whether the
library uses it is decided by numbers (benchmarks/evaluate_settings.py): it must keep
cosine >= 0.99 to the float model's vectors and lose no more than 0.005 mAP.

GeM pooling and the L2 normalisation stay in float (only convolutions and the residual adds
are quantised): the pooled 1280-d vector is what the catalogue stores.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Iterable

import numpy as np

from photofinder.pixels.embedding import preprocess
from photofinder.pixels.embedding.model import MANIFEST, ModelError, file_sha256, read_manifest


def calibration_arrays(images: Iterable, long_side: int | None = None) -> list[np.ndarray]:
    """RGB PIL images -> the model's inputs."""
    return [preprocess.prepare(im, long_side) for im in images]


def quantize(source: Path, target: Path, arrays: list[np.ndarray], method: str = "minmax",
             op_types: tuple[str, ...] = ("Conv", "Add")) -> dict:
    """Write an int8 copy of the model in ``source`` to ``target`` with its manifest."""
    try:
        from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod,
                                              QuantFormat, QuantType, quantize_static)
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError as e:
        raise ModelError(f"int8 quantisation needs onnxruntime's quantisation tools ({e})") from e
    if not arrays:
        raise ModelError("int8 quantisation needs calibration photos")

    class Reader(CalibrationDataReader):
        """onnxruntime's calibration reader over prepared arrays, one photo a batch."""

        def __init__(self, input_name: str, arrays: list[np.ndarray]):
            self.items = iter([{input_name: a[None]} for a in arrays])

        def get_next(self):
            return next(self.items, None)

        def rewind(self):  # not needed by MinMax, required by the protocol in newer versions
            pass
    manifest = read_manifest(source)
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(Path(source) / manifest["file"]), str(pre), skip_symbolic_shape=True)
        out = Path(tmp) / "int8.onnx"
        quantize_static(str(pre), str(out), Reader(manifest["input"]["name"], arrays),
                        quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        op_types_to_quantize=list(op_types),
                        calibrate_method={"minmax": CalibrationMethod.MinMax,
                                          "percentile": CalibrationMethod.Percentile,
                                          "entropy": CalibrationMethod.Entropy}[method])
        os.replace(out, target / "model.onnx")
    # (not the float graph's embedding_sha256: the model id is the int8 file's own, so its
    # vectors never mix with the float model's in one library)
    own = {k: v for k, v in manifest.items() if k != "embedding_sha256"}
    int8 = {**own, "file": "model.onnx", "sha256": file_sha256(target / "model.onnx"),
            "quantisation": {"scheme": f"static int8 QDQ, per-channel weights, {method}",
                             "ops": list(op_types),
                             "calibration_photos": len(arrays),
                             "float_sha256": manifest["sha256"]}}
    (target / MANIFEST).write_text(json.dumps(int8, indent=2) + "\n")
    return int8
