"""Files shipped inside the package (``photofinder.resources``: icons, demo photos), found
with ``importlib.resources`` so they load from a wheel, an editable install or a bundle."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _root() -> Path:
    return Path(str(resources.files("photofinder.resources")))


def icon_path(name: str) -> Path:
    """The SVG of an icon (``name`` without the extension)."""
    return _root() / "icons" / f"{name}.svg"


def demo_originals() -> list[Path]:
    """The demo photos (public domain / CC0; see demo/LICENSES.md)."""
    return sorted((_root() / "demo").glob("*.jpg"))


def projection_path(name: str) -> Path:
    """A shipped projection (packaging/make_projection.py; provenance.json beside it)."""
    return _root() / "projection" / name


def guide_path() -> Path:
    """The guide shown by Help (HTML, read offline)."""
    return _root() / "guide" / "guide.html"


def calibration_path(name: str) -> Path:
    """A shipped calibration of scores (packaging/make_calibration.py writes it)."""
    return _root() / "calibration" / name
