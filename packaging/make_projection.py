"""Make the projection every library uses from its first photo (until it learns its own at
``projection.MIN_TRAIN`` photos): resources/projection/pca-axes.npz and its provenance.

Development time only (needs apt-get and the model). The photos are in neither holidays-dev
nor the shared testdata: Debian's wallpaper packages, fetched by name, and scikit-image's
sample photos. Each photo gives itself and ``CROPS`` random crops (15-80 % of its area, half of
them mirrored), so 128 pictures give 2,048 samples. The axes are the leading right singular
vectors of the samples, uncentred: the principal axes of the vectors' second moment, which
the HNSW graph holds (128 numbers a photo instead of 1,280); candidates are ranked by the
plain cosine of the raw vectors, so the projection changes which photos the graph offers,
never their order. benchmarks/evaluate_settings.py measures both.

    python packaging/make_projection.py WORKDIR      (WORKDIR: where the .debs are unpacked)
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from photofinder.pixels import imaging
from photofinder.pixels.embedding import preprocess
from photofinder.pixels.embedding.model import Embedder
from photofinder.retrieval import projection as P

PACKAGES = ["gnome-backgrounds", "ukui-wallpapers", "lomiri-wallpapers", "lomiri-wallpapers-16.04",
            "lomiri-wallpapers-20.04", "mate-backgrounds", "plasma-workspace-wallpapers"]
SKIMAGE = ["astronaut", "cat", "coffee", "rocket", "chelsea", "hubble_deep_field", "retina",
           "camera", "coins", "clock", "horse", "moon", "brick", "grass", "gravel",
           "immunohistochemistry"]
CROPS = 15
SEED = 0
OUT = Path(__file__).resolve().parents[1] / "resources" / "projection"


def fetch(work: Path) -> dict[str, str]:
    """Download and unpack the packages; {package: version}."""
    debs = work / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    (work / "unpacked").mkdir(exist_ok=True)
    versions = {}
    for name in PACKAGES:
        subprocess.run(["apt-get", "download", "-q", name], cwd=debs, check=True,
                       capture_output=True)
        deb = sorted(debs.glob(f"{name}_*.deb"))[-1]
        versions[name] = deb.name.split("_")[1].replace("%3a", ":")
        subprocess.run(["dpkg-deb", "-x", str(deb), str(work / "unpacked" / name)], check=True)
    return versions


def pictures(work: Path) -> list[tuple[str, Path | None]]:
    """One file per wallpaper (its largest size; no screenshots), then scikit-image's."""
    best: dict[str, Path] = {}
    for p in sorted((work / "unpacked").rglob("*")):
        if p.suffix.lower() not in (".jpg", ".jpeg", ".png", ".webp") or \
                p.stem == "screenshot":
            continue
        # a KDE wallpaper is a folder of sizes (contents/images, contents/images_dark)
        key = str(p.parent) if p.parent.name.startswith("images") else str(p)
        if key not in best or p.stat().st_size > best[key].stat().st_size:
            best[key] = p
    return [(str(p.relative_to(work / "unpacked")), p) for p in sorted(best.values())] + \
        [(f"scikit-image:{n}", None) for n in SKIMAGE]


def open_picture(path: Path | None, name: str) -> Image.Image:
    if path is not None:
        return imaging.decode(path.read_bytes(), need=1024, name=str(path)).image.convert("RGB")
    import skimage.data

    a = getattr(skimage.data, name.split(":")[1])()
    if a.ndim == 2:
        a = np.stack([a] * 3, -1)
    return Image.fromarray(a[..., :3].astype(np.uint8))


def samples(im: Image.Image, rng: random.Random) -> list[Image.Image]:
    out = [im]
    w, h = im.size
    for _ in range(CROPS):
        area, aspect = rng.uniform(0.15, 0.8), rng.uniform(0.6, 1.6)
        cw, ch = min(w, int(w * (area * aspect) ** 0.5)), min(h, int(h * (area / aspect) ** 0.5))
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        c = im.crop((x, y, x + cw, y + ch))
        out.append(c.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if rng.random() < 0.5 else c)
    return out


def main() -> None:
    work = Path(sys.argv[1])
    versions = fetch(work)
    emb = Embedder(provider="cpu")
    rng = random.Random(SEED)
    vectors, sources = [], []
    for name, path in pictures(work):
        ims = samples(open_picture(path, name), rng)
        arrays = [preprocess.prepare(i) for i in ims]
        vectors.append(np.concatenate([emb.embed(arrays[i:i + 8]) for i in range(0, len(arrays), 8)]))
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path else "scikit-image"
        sources.append({"picture": name, "sha256": digest})
        print(name, file=sys.stderr)
    x = np.concatenate(vectors)
    axes = P.fit_principal_axes(x, P.SHIPPED_INDEX_DIM)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / P.SHIPPED_FILE).write_bytes(axes.to_bytes())
    (OUT / "provenance.json").write_text(json.dumps({
        "what": "principal axes (uncentred) of GeM vectors, the leading "
                f"{P.SHIPPED_INDEX_DIM} of {x.shape[1]}",
        "version": axes.version, "model": emb.model_id, "samples": int(len(x)),
        "pictures": len(sources), "crops_per_picture": CROPS, "seed": SEED,
        "debian_packages": versions, "scikit_image": "scikit-image's bundled sample photos",
        "made_by": "packaging/make_projection.py", "sources": sources}, indent=1) + "\n")
    print(axes.version)


if __name__ == "__main__":
    main()
