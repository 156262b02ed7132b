"""Fetch the real photos that benchmarks/duplicates_quality.py takes as sources (``--photos``).

Debian's wallpaper and background packages, fetched by name with apt (``apt-get download``,
then ``dpkg-deb -x``: nothing is installed), one picture per wallpaper kept in one flat
folder as ``PACKAGE--NAME.EXT``:
- per wallpaper the largest rendering only (a package ships one picture at several sizes:
  those are copies of each other, never two sources);
- no previews (``screenshot.*``), no size-named renderings (``Elephants_3840x2160.jpg``),
  no GNOME dark variant (``*-d.webp``: the light one's tone edit), no icons or docs.
Usage: python benchmarks/fetch_duplicates_sources.py DEST [--work DIR]
(needs ``apt-get update`` once; run as a user apt may write for, or as root.)
The other origins need no fetching: scikit-image's data and ../shared/evaldata/holidays-dev.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGES = ["ukui-wallpapers", "lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04",
            "mate-backgrounds", "palapeli-data", "plasma-workspace-wallpapers",
            "gnome-backgrounds"]
PLACES = ("usr/share/backgrounds", "usr/share/wallpapers", "usr/share/palapeli/collection")
EXT = {".jpg", ".jpeg", ".png", ".webp"}
SIZE_NAMED = re.compile(r"\d{3,5}x\d{3,5}$")


def pictures(root: Path) -> dict[str, Path]:
    """{wallpaper name: its largest file} under the package tree ``root``."""
    best: dict[str, Path] = {}
    for place in PLACES:
        for p in sorted((root / place).rglob("*")):
            if p.suffix.lower() not in EXT or not p.is_file() or p.stat().st_size == 0:
                continue
            stem = p.stem
            # a Plasma wallpaper is a folder NAME/contents/images/WxH.ext: one picture
            parts = p.relative_to(root / place).parts
            plasma = "images" in parts
            if stem == "screenshot" or stem.endswith("-d") or (SIZE_NAMED.search(stem) and not plasma):
                continue
            name = parts[0] if plasma else stem
            if name not in best or p.stat().st_size > best[name].stat().st_size:
                best[name] = p
    return best


def main() -> None:
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    dest = Path(args[0])
    work = Path(args[args.index("--work") + 1]) if "--work" in args else Path(tempfile.mkdtemp())
    dest.mkdir(parents=True, exist_ok=True)
    (work / "debs").mkdir(parents=True, exist_ok=True)
    if not any((work / "debs").glob("*.deb")):
        subprocess.run(["apt-get", "download", *PACKAGES], cwd=work / "debs", check=True)
    n = 0
    for deb in sorted((work / "debs").glob("*.deb")):
        pkg = deb.name.split("_")[0]
        tree = work / "trees" / pkg
        tree.mkdir(parents=True, exist_ok=True)
        # (gnome-backgrounds holds links dpkg-deb may not make outside a root tree: it says
        # so and goes on; the pictures are there)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=False)
        for name, p in pictures(tree).items():
            shutil.copyfile(p, dest / f"{pkg}--{name}{p.suffix.lower()}")
            n += 1
    print(f"{n} pictures in {dest}")


if __name__ == "__main__":
    main()
