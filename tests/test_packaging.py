"""The wheel holds every package and the resources (a plain install works)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_for_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "photofinder").rglob("__init__.py")}
    found.add("photofinder.resources")  # resources/ at the top, mapped into the package
    assert found == listed


def test_resources_load_through_importlib():
    from photofinder.assets import demo_originals, icon_path

    assert len(demo_originals()) == 8
    assert (demo_originals()[0].parent / "LICENSES.md").is_file()
    for svg in (ROOT / "resources" / "icons").glob("*.svg"):
        assert icon_path(svg.stem).read_bytes() == svg.read_bytes()
