"""Freedesktop desktops (Linux, the BSDs): the XDG folders, and the desktop entry that puts
photofinder in the application menu, offers it for image files ("Open with") and carries a
"Find similar photos" desktop action; the icons go to the user's hicolor theme."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from photofinder import assets
from photofinder.platforms import ACTION_NAME, APP_ID, IMAGE_MIME_TYPES
from photofinder.platforms.integration import (
    Integration,
    PlannedFile,
    Record,
    remove_created,
)
from photofinder.platforms.launcher import Launcher, desktop_exec

ICONS = {"photofinder": APP_ID, "find-similar": f"{APP_ID}-find-similar"}  # ours -> theme name


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"))


def config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config"))


def desktop_entry(launcher: Launcher) -> str:
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        "Name=photofinder",
        "GenericName=Photo organiser",
        "Comment=Find similar photos and clean out duplicates, on your own computer",
        f"Exec={desktop_exec(launcher.gui('%F'))}",
        f"Icon={APP_ID}",
        "Terminal=false",
        "StartupNotify=true",
        f"StartupWMClass={APP_ID}",
        "Categories=Graphics;Photography;Viewer;",
        "MimeType=" + "".join(m + ";" for m in IMAGE_MIME_TYPES),
        "Keywords=photo;similar;duplicates;images;pictures;",
        "Actions=find-similar;",
        "",
        "[Desktop Action find-similar]",
        f"Name={ACTION_NAME}…",
        f"Exec={desktop_exec(launcher.gui('--choose'))}",
        f"Icon={ICONS['find-similar']}",
        "",
    ])


class DesktopEntry(Integration):
    name = "desktop"
    title = "desktop entry (application menu, Open with, icons)"

    def applications(self) -> Path:
        return data_home() / "applications"

    def plan(self, launcher: Launcher) -> list[PlannedFile]:
        files = [PlannedFile(self.applications() / f"{APP_ID}.desktop",
                             desktop_entry(launcher).encode())]
        icons = data_home() / "icons" / "hicolor" / "scalable" / "apps"
        for ours, theirs in ICONS.items():
            files.append(PlannedFile(icons / f"{theirs}.svg", assets.icon_path(ours).read_bytes()))
        return files

    def install(self, launcher: Launcher, record: Record) -> list[str]:
        cache = self.applications() / "mimeinfo.cache"
        had_cache = cache.exists()
        written = super().install(launcher, record)
        if written and self._update_database() and not had_cache and cache.exists():
            record.add(self.name, cache)  # ours to remove again when nothing else needs it
        return written

    def uninstall(self, launcher: Launcher, record: Record) -> list[str]:
        removed = self.remove_planned(launcher)
        if removed:
            self._update_database()
        if any(self.applications().glob("*.desktop")):
            record.forget(self.name)  # other applications' entries need the cache now
        return removed + remove_created(record, self.name)

    def _update_database(self) -> bool:
        """Refresh the "Open with" cache of the user's applications folder, where the tool
        exists (desktop-file-utils); a desktop without it reads the entries directly."""
        tool = shutil.which("update-desktop-database")
        if not tool or not self.applications().is_dir():
            return False
        try:
            subprocess.run([tool, str(self.applications())], capture_output=True, timeout=30,
                           check=False)
        except (OSError, subprocess.SubprocessError):
            return False
        return True
