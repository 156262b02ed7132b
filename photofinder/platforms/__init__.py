"""Platform code, in one place: which operating system this is, how the file managers of
each one are taught a "Find similar photos" action, and how that action starts photofinder.

Each integration (``integration.Integration``) plans what it writes as plain data (files with
their bytes, registry values, an XML action merged into a shared file), so the plan for every
OS can be generated and tested anywhere; only applying a Windows plan needs Windows.
"""

from __future__ import annotations

import sys

ACTION_NAME = "Find similar photos"
APP_ID = "photofinder"

# the image types the desktop entry claims; file-manager actions match image/* instead
IMAGE_MIME_TYPES = (
    "image/jpeg", "image/png", "image/webp", "image/tiff", "image/gif", "image/bmp",
    "image/heic", "image/heif", "image/avif", "image/x-canon-cr2", "image/x-canon-cr3",
    "image/x-nikon-nef", "image/x-sony-arw", "image/x-adobe-dng", "image/x-fuji-raf",
    "image/x-olympus-orf", "image/x-panasonic-rw2",
)


def current() -> str:
    """'windows', 'macos' or 'freedesktop' (Linux, the BSDs and other X11/Wayland desktops)."""
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    return "freedesktop"
