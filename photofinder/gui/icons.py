"""Icons drawn for photofinder (SVG shipped in photofinder.resources/icons, so they stay sharp at any DPI)."""

from __future__ import annotations

from functools import lru_cache
from PySide6.QtGui import QIcon

from photofinder.assets import icon_path


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    return QIcon(str(icon_path(name)))
