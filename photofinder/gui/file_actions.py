"""Hand a photo to the desktop: show it in the file manager, open it with the default app.
Both start other programs asynchronously; nothing here waits on them."""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QProcess, QUrl
from PySide6.QtGui import QDesktopServices

from photofinder.library import is_photo_name


def open_external(path: str) -> bool:
    return QDesktopServices.openUrl(QUrl.fromLocalFile(path))


def show_in_folder(path: str) -> bool:
    """Select the file in the platform's file manager, else open its folder."""
    if sys.platform == "darwin":
        return QProcess.startDetached("open", ["-R", path])[0]
    if sys.platform.startswith("win"):
        return QProcess.startDetached("explorer", ["/select,", os.path.normpath(path)])[0]
    try:  # freedesktop: Nautilus, Dolphin, Nemo, Thunar... select the item
        from PySide6.QtDBus import QDBusConnection, QDBusMessage

        bus = QDBusConnection.sessionBus()
        if bus.isConnected():
            msg = QDBusMessage.createMethodCall("org.freedesktop.FileManager1",
                                                "/org/freedesktop/FileManager1",
                                                "org.freedesktop.FileManager1", "ShowItems")
            msg.setArguments([[QUrl.fromLocalFile(path).toString()], ""])
            if _has_file_manager1(bus):
                bus.asyncCall(msg)
                return True
    except ImportError:
        pass
    return QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(path)))


def _has_file_manager1(bus) -> bool:
    iface = bus.interface()
    if iface is None:
        return False
    reply = iface.isServiceRegistered("org.freedesktop.FileManager1")
    return bool(reply.value()) if reply.isValid() else False


def local_image_paths(mime) -> list[str]:
    """The local files among dropped or pasted URLs."""
    out = []
    for url in mime.urls() if mime.hasUrls() else []:
        if url.isLocalFile():
            p = url.toLocalFile()
            if is_photo_name(p):
                out.append(p)
    return out
