"""A large SYNTHETIC library for the GUI benchmarks (not a benchmark itself).

N catalogue rows whose files are small real JPEGs (64 distinct pictures written over and
over, each path its own file the GUI can stat, thumbnail and search by; not hard links,
which the scanner rightly counts as one photo), each with a random unit vector (float16,
the model's dimension) in the catalogue, and the HNSW index built from them. No photo is
embedded: the figures measure the GUI and the query path, not the model.
Usage: python benchmarks/gui_synthetic.py N DIR  (reuses DIR when it is already built)
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

PER_FOLDER = 1000


def _sources() -> list[bytes]:
    """64 small JPEGs: tiles of the demo photos."""
    import io

    from PIL import Image

    from photofinder.demo import originals

    out = []
    for src in originals():
        with Image.open(src) as im:
            im = im.convert("RGB")
            w, h = im.size
            for k in range(8):
                box = ((k % 4) * w // 5, (k // 4) * h // 3, (k % 4) * w // 5 + 2 * w // 5,
                       (k // 4) * h // 3 + 2 * h // 3)
                buf = io.BytesIO()
                im.crop(box).resize((200, 150)).save(buf, "JPEG", quality=80)
                out.append(buf.getvalue())
    return out


def build(n: int, root: str) -> dict:
    from photofinder.library import Library

    lib_dir = os.path.join(root, "library")
    photos = os.path.join(root, "photos")
    marker = os.path.join(root, f"built-{n}")
    if os.path.exists(marker):
        return {"library": lib_dir, "photos": photos, "built_seconds": 0.0}
    start = time.monotonic()
    os.makedirs(photos, exist_ok=True)
    sources = _sources()
    lib = Library(lib_dir)
    with lib.writer.held():  # saves the index as it ends
        cat = lib.catalog
        folder = cat.folders.add(photos)
        dim, model = lib.embedder.dim, lib.embedder.model_id
        rng = np.random.default_rng(7)
        chunk = 5000
        for first in range(0, n, chunk):
            m = min(chunk, n - first)
            vecs = rng.standard_normal((m, dim)).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            with cat.transaction():
                for i in range(m):
                    k = first + i
                    month = k // PER_FOLDER
                    sub = os.path.join(photos, f"{2001 + month // 12:04d}-{month % 12 + 1:02d}")
                    os.makedirs(sub, exist_ok=True)
                    path = os.path.join(sub, f"IMG_{k:06d}.jpg")
                    if not os.path.exists(path):
                        with open(path, "wb") as f:
                            f.write(sources[k % len(sources)])
                    st = os.stat(path)
                    pid = cat.photos.insert(folder.id, path, st.st_size, st.st_mtime_ns, st.st_dev,
                                           st.st_ino)
                    taken = f"{2001 + k // 12000}:{k // 1000 % 12 + 1:02d}:{k % 28 + 1:02d} 12:00:00"
                    cat.photos.record_result(pid, {"hash": f"synthetic{k:09d}", "width": 200, "height": 150,
                                            "format": "JPEG", "taken_at": taken}, model,
                                      vecs[i].astype(np.float16).tobytes())
        cat.folders.set_online(folder.id, online=True, scanned=True)
        len(lib.space.index)  # builds the HNSW index from the stored vectors
        lib.space.index.dirty = True
    lib.close()
    open(marker, "w").close()
    return {"library": lib_dir, "photos": photos, "built_seconds": round(time.monotonic() - start, 1)}


if __name__ == "__main__":
    print(build(int(sys.argv[1]), sys.argv[2]))
