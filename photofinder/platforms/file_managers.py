"""The "Find similar photos" right-click action for the freedesktop file managers that read
one file per action: Nautilus (GNOME) scripts, Dolphin (KDE) service menus, Nemo actions.
Thunar keeps its actions in one shared file: see thunar.py."""

from __future__ import annotations

import shutil

from photofinder.platforms import ACTION_NAME, APP_ID
from photofinder.platforms.freedesktop import ICONS, data_home
from photofinder.platforms.integration import Integration, PlannedFile
from photofinder.platforms.launcher import Launcher, desktop_exec, sh_command


def _which(*names: str) -> bool:
    return any(shutil.which(n) for n in names)


class Nautilus(Integration):
    """Right-click > Scripts > Find similar photos. Nautilus passes the selected local files
    as arguments (and sets the working folder to theirs)."""

    name = "nautilus"
    title = "Nautilus (GNOME Files) script"

    def detected(self) -> bool:
        return _which("nautilus") or (data_home() / "nautilus").is_dir()

    def plan(self, launcher: Launcher) -> list[PlannedFile]:
        script = "\n".join([
            "#!/bin/sh",
            f"# {ACTION_NAME} (photofinder): written by `photofinder integrate install`;",
            "# `photofinder integrate uninstall` removes it.",
            f'exec {sh_command(launcher.gui())} "$@"',
            "",
        ])
        return [PlannedFile(data_home() / "nautilus" / "scripts" / ACTION_NAME,
                            script.encode(), executable=True)]


class Dolphin(Integration):
    """A KDE service menu (KF5 >= 5.85 and KF6 read ~/.local/share/kio/servicemenus and want
    the file executable)."""

    name = "dolphin"
    title = "Dolphin (KDE) service menu"

    def detected(self) -> bool:
        return _which("dolphin", "konqueror")

    def plan(self, launcher: Launcher) -> list[PlannedFile]:
        text = "\n".join([
            "[Desktop Entry]",
            "Type=Service",
            "MimeType=image/*;",
            "Actions=photofinderFindSimilar;",
            "X-KDE-ServiceTypes=KonqPopupMenu/Plugin",
            "X-KDE-Priority=TopLevel",
            "",
            "[Desktop Action photofinderFindSimilar]",
            f"Name={ACTION_NAME}",
            f"Icon={ICONS['find-similar']}",
            f"Exec={desktop_exec(launcher.gui('%F'))}",
            "",
        ])
        return [PlannedFile(data_home() / "kio" / "servicemenus" / f"{APP_ID}-find-similar.desktop",
                            text.encode(), executable=True)]


class Nemo(Integration):
    """A Nemo (Cinnamon) action for one or more selected image files."""

    name = "nemo"
    title = "Nemo (Cinnamon) action"

    def detected(self) -> bool:
        return _which("nemo")

    def plan(self, launcher: Launcher) -> list[PlannedFile]:
        text = "\n".join([
            "[Nemo Action]",
            "Active=true",
            f"Name={ACTION_NAME}",
            "Comment=Search the photofinder library for photos like %N",
            # Nemo splits Exec like a shell (g_shell_parse_argv) and quotes what %F inserts
            f"Exec={sh_command(launcher.gui())} %F",
            f"Icon-Name={ICONS['find-similar']}",
            "Selection=notnone",
            "Extensions=any;",
            "Mimetypes=image/*;",
            "",
        ])
        return [PlannedFile(data_home() / "nemo" / "actions" / f"{APP_ID}-find-similar.nemo_action",
                            text.encode())]

