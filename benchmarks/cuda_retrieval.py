"""Find similar on a GPU (issue 24): indexing photos/s at 12 MP, search latency with the
re-ranking, fp16 agreement, and whether I/O binding pays; prints JSON. Under 5 minutes.

On a machine with onnxruntime-gpu and CUDA (see README "GPU"):

    pip uninstall -y onnxruntime && pip install -c packaging/constraints.txt -e '.[gpu,export]'
    photofinder model build && python benchmarks/cuda_retrieval.py [--photos N]

Without CUDA it says so (``"cuda": false`` with the reason) and measures nothing on a GPU;
``--provider cpu`` runs the same steps on the CPU (how the script is tested without a GPU).

- indexing: ``--photos`` (default 200) distinct 12-megapixel camera JPEGs (the shared phone
  photos, else a generated stand-in) indexed by ``Library.update`` (decode pool + batched
  embedding), photos/s of the whole run;
- search: ``Library.similar`` of indexed photos, cold (each photo's first search: the
  candidates' local features decoded afresh) and warm (the same searches again), median ms;
- fp16: cosine of the fp16 model's vectors to the fp32 model's on the same 12 MP photos (the
  library's own choice is fp16 only where every demo photo keeps >= 0.999);
- I/O binding: one batch of model inputs run by ``session.run`` and through an
  ``io_binding`` with the input copied to the device once, median ms of each.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import camera_jpegs, distinct_copies, emit, median_ms, pop_option  # noqa: E402


def main() -> None:
    args = sys.argv[1:]
    provider = pop_option(args, "--provider", "cuda")
    n = int(pop_option(args, "--photos", "200"))
    from photofinder.library import Library, LibraryError
    from photofinder.pixels.embedding.model import Embedder, ModelError

    out: dict = {"benchmark": "cuda_retrieval", "provider_asked": provider, "photos": n}
    try:
        emb = Embedder(provider=provider)
    except ModelError as e:
        emit({**out, "cuda": False, "reason": str(e),
              "note": "no CUDA here: nothing measured on a GPU (run with --provider cpu to "
                      "try the steps on the CPU)"})
        return
    out.update({"cuda": emb.provider == "CUDA", "provider": emb.provider,
                "precision": emb.precision, "batch": emb.batch_size,
                "decode_workers": emb.decode_workers})
    tmp = Path(tempfile.mkdtemp(prefix="pf-cuda-"))
    try:
        paths = distinct_copies(camera_jpegs(), tmp / "photos", n)
        lib = Library(tmp / "lib", embedder=emb)
        lib.add_folder(tmp / "photos")
        t = time.perf_counter()
        lib.update(duplicates=False)
        took = time.perf_counter() - t
        out["indexing"] = {"photos": lib.counts()["indexed"], "seconds": round(took, 2),
                           "photos_per_s": round(n / took, 2)}
        queries = [str(p) for p in paths[: min(20, n)]]
        cold = []
        for q in queries:
            t = time.perf_counter()
            lib.similar(q, top=20)
            cold.append((time.perf_counter() - t) * 1000)
        it = iter(queries * 10)
        out["search_ms"] = {"cold_median": round(statistics.median(cold), 2),
                            "warm_median": median_ms(lambda: lib.similar(next(it), top=20),
                                                      len(queries)),
                            "library_photos": n,
                            "note": "cold: the candidates' local features decoded afresh"}
        lib.close()
        out["fp16"] = _fp16_agreement(emb, paths[:8], provider)
        out["io_binding"] = _io_binding(emb)
    except LibraryError as e:
        out["error"] = str(e)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    emit(out)


def _inputs(paths, k: int = 8) -> list[np.ndarray]:
    from photofinder.pixels import imaging
    from photofinder.pixels.embedding import preprocess

    return [preprocess.prepare(imaging.load(p, need=preprocess.LONG_SIDE)[0].image)
            for p in paths[:k]]


def _fp16_agreement(emb, paths, provider: str) -> dict:
    """fp16 vs fp32 vectors of the same photos on this provider."""
    from photofinder.pixels.embedding.model import Embedder

    arrays = _inputs(paths)
    old = os.environ.get("PHOTOFINDER_FP16")
    os.environ["PHOTOFINDER_FP16"] = "0"
    try:
        full = Embedder(provider=provider)
    finally:
        if old is None:
            os.environ.pop("PHOTOFINDER_FP16", None)
        else:
            os.environ["PHOTOFINDER_FP16"] = old
    if emb.precision != "fp16":
        return {"used": False, "note": f"the library runs {emb.precision} here"}
    a, b = full.embed(arrays), emb.embed(arrays)
    cos = np.sum(a * b, axis=1)
    return {"used": True, "min_cosine": round(float(cos.min()), 5),
            "median_cosine": round(float(np.median(cos)), 5)}


def _io_binding(emb) -> dict:
    """One batch through session.run, and through an I/O binding (the input put on the
    device once, the output left there): median ms of each."""
    import onnxruntime as ort

    batch = np.random.default_rng(0).uniform(-1, 1, (emb.batch_size, 3, 256, 192)) \
        .astype(np.float32)
    sess, name, outs = emb.session, emb.input_name, [emb.embedding_output]
    plain = median_ms(lambda: sess.run(outs, {name: batch}), 10)
    device = "cuda" if emb.provider == "CUDA" else "cpu"
    try:
        value = ort.OrtValue.ortvalue_from_numpy(batch, device, 0)
        binding = sess.io_binding()
        binding.bind_ortvalue_input(name, value)
        binding.bind_output(outs[0], device)
        bound = median_ms(lambda: sess.run_with_iobinding(binding), 10)
    except Exception as e:  # onnxruntime's own errors are untyped
        return {"plain_ms": plain, "error": str(e).splitlines()[0]}
    return {"batch": emb.batch_size, "plain_ms": plain, "bound_ms": bound,
            "pays": bool(bound < 0.9 * plain),
            "note": "bound: the input already on the device (pinned batches would need the "
                    "decode to fill device memory directly)"}


if __name__ == "__main__":
    main()
