"""Which onnxruntime execution provider runs the model: CUDA when ``onnxruntime-gpu`` and a
GPU are there, else the CPU.

- ``auto`` (the default; ``$PHOTOFINDER_PROVIDER`` or ``--provider`` change it): CUDA when
  onnxruntime offers it and a session really starts on it; when the CUDA libraries (CUDA,
  cuDNN) or the GPU are missing, one line says so and the CPU runs the model.
- ``cuda``: CUDA or a one-line error, never a silent CPU run.
- ``cpu``: the CPU, even where a GPU is.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence

from photofinder.errors import PhotofinderError

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
CHOICES = ("auto", "cpu", "cuda")
GPU_EXTRA = "pip install 'photofinder[gpu]' (onnxruntime-gpu in place of onnxruntime)"


class ProviderError(PhotofinderError):
    """The provider asked for cannot run; one line."""


def requested(prefer: str | None = None) -> str:
    choice = (prefer or os.environ.get("PHOTOFINDER_PROVIDER") or "auto").lower()
    if choice not in CHOICES:
        raise ProviderError(f"unknown provider {choice!r} (choose from {', '.join(CHOICES)})")
    return choice


def plan(prefer: str | None = None) -> list[str]:
    """The providers to ask onnxruntime for, best first."""
    import onnxruntime as ort

    choice = requested(prefer)
    if choice == "cpu":
        return [CPU]
    if CUDA in ort.get_available_providers():
        _preload_cuda_libraries()
        return [CUDA, CPU]
    if choice == "cuda":
        raise ProviderError(f"--provider cuda: CUDA cannot be used: this onnxruntime "
                            f"({ort.__version__}) has no CUDA provider; {GPU_EXTRA}")
    return [CPU]


def _preload_cuda_libraries() -> None:
    """onnxruntime-gpu >= 1.21 finds CUDA and cuDNN installed from PyPI (nvidia-* packages)
    only once they are preloaded; a system-wide CUDA needs nothing."""
    import onnxruntime as ort

    preload = getattr(ort, "preload_dlls", None)
    if preload is None:
        return
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
        try:
            preload()
        except Exception as e:  # noqa: BLE001 - a missing library shows when the session starts
            log.debug("preloading the CUDA libraries: %s", e)


@contextlib.contextmanager
def quiet_onnxruntime():
    """onnxruntime logs a missing CUDA library as several lines of its own on stderr; while a
    CUDA session is tried, only fatal ones pass (the outcome is reported in one line)."""
    import onnxruntime as ort

    ort.set_default_logger_severity(4)
    try:
        yield
    finally:
        ort.set_default_logger_severity(3)


def check(prefer: str | None, asked: list[str], active: Sequence[str]) -> str:
    """'CUDA' or 'CPU' for a session that was asked for ``asked`` and runs ``active``; a CUDA
    request that ended on the CPU is an error (``cuda``) or one warning line (``auto``)."""
    if CUDA in asked and (not active or active[0] != CUDA):
        why = "its libraries (CUDA, cuDNN) or the GPU are missing"
        if requested(prefer) == "cuda":
            raise ProviderError(f"--provider cuda: CUDA cannot be used: {why}")
        log.warning("CUDA is not usable here (%s); embedding on the CPU", why)
        return "CPU"
    return "CUDA" if active and active[0] == CUDA else "CPU"


def decode_workers(provider: str) -> int:
    """Decode workers for the indexer. On the CPU, decoding shares the cores with inference;
    with a GPU inferring, every core decodes, plus two to cover reads from a slow disk."""
    cores = os.cpu_count() or 2
    return cores + 2 if provider == "CUDA" else max(2, cores)


def batch_size(provider: str) -> int:
    """Photos per inference call: 8 on the CPU (as fast as 16 with half the arena memory);
    a GPU wants larger batches to stay busy."""
    return 32 if provider == "CUDA" else 8
