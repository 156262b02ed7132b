"""Icons drawn for photofinder (SVG in resources/icons, so they stay sharp at any DPI)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QIcon

import photofinder

RESOURCES = Path(photofinder.__file__).resolve().parents[1] / "resources"


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    return QIcon(str(RESOURCES / "icons" / f"{name}.svg"))
