"""Windows: "Find similar photos" in Explorer's right-click menu for every image type, for
this user only (HKEY_CURRENT_USER, no administrator rights).

The plan is a list of registry values, applied through ``winreg`` on Windows and rendered
as a ``.reg`` file anywhere (what the tests read). Explorer starts one command per selected
file; the single-instance hand-over gathers them into the one running window.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass

from photofinder.platforms import ACTION_NAME, APP_ID
from photofinder.platforms.integration import (
    Integration,
    IntegrationError,
    PlannedFile,
    Record,
    Status,
)
from photofinder.platforms.launcher import Launcher, windows_command

HIVE = "HKEY_CURRENT_USER"
ROOT = rf"Software\Classes\SystemFileAssociations\image\shell\{APP_ID}.findsimilar"


@dataclass(frozen=True)
class RegValue:
    key: str            # below HKEY_CURRENT_USER
    name: str           # "" is the key's default value
    value: str


def icon_source(launcher: Launcher) -> str:
    """The executable's own icon when it is a bundle's .exe, else the Python's."""
    return f'"{launcher.argv[0]}",0'


def registry_plan(launcher: Launcher) -> list[RegValue]:
    return [
        RegValue(ROOT, "", ACTION_NAME),
        RegValue(ROOT, "Icon", icon_source(launcher)),
        RegValue(ROOT, "MultiSelectModel", "Player"),  # offered for many selected files too
        RegValue(ROOT + r"\command", "", windows_command(launcher.gui("%1"))),
    ]


def _reg_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def reg_file(plan: list[RegValue], remove: bool = False) -> str:
    """The plan as a ``.reg`` file (UTF-16 when saved for regedit; text here). With ``remove``,
    the file that deletes the key again."""
    lines = ["Windows Registry Editor Version 5.00", ""]
    if remove:
        lines += [f"[-{HIVE}\\{ROOT}]", ""]
        return "\r\n".join(lines)
    keys: dict[str, list[RegValue]] = {}
    for v in plan:
        keys.setdefault(v.key, []).append(v)
    for key, values in keys.items():
        lines.append(f"[{HIVE}\\{key}]")
        for v in values:
            lines.append(("@" if v.name == "" else _reg_string(v.name)) + "=" + _reg_string(v.value))
        lines.append("")
    return "\r\n".join(lines)


class Explorer(Integration):
    name = "explorer"
    title = "Explorer context menu (HKCU)"

    def plan(self, launcher: Launcher) -> list[PlannedFile]:
        return []  # registry values, not files: see registry_plan

    def install(self, launcher: Launcher, record: Record) -> list[str]:
        winreg = _winreg()
        written = []
        try:
            for v in registry_plan(launcher):
                with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, v.key, 0, winreg.KEY_ALL_ACCESS) as k:
                    try:
                        if winreg.QueryValueEx(k, v.name)[0] == v.value:
                            continue
                    except FileNotFoundError:
                        pass
                    winreg.SetValueEx(k, v.name, 0, winreg.REG_SZ, v.value)
                    written.append(f"{HIVE}\\{v.key} {v.name or '(default)'}")
        except OSError as e:
            raise IntegrationError(f"Explorer: cannot write the registry ({e})") from None
        return written

    def uninstall(self, launcher: Launcher, record: Record) -> list[str]:
        winreg = _winreg()
        removed = []
        for key in (ROOT + r"\command", ROOT):  # deepest first: DeleteKey needs no subkeys
            try:
                winreg.DeleteKey(winreg.HKEY_CURRENT_USER, key)
                removed.append(f"{HIVE}\\{key}")
            except FileNotFoundError:
                pass
            except OSError as e:
                raise IntegrationError(f"Explorer: cannot remove {HIVE}\\{key} ({e})") from None
        return removed

    def status(self, launcher: Launcher) -> Status:
        winreg = _winreg()
        found, same = 0, 0
        plan = registry_plan(launcher)
        for v in plan:
            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, v.key) as k:
                    value = winreg.QueryValueEx(k, v.name)[0]
            except OSError:
                continue
            found += 1
            same += value == v.value
        where = [f"{HIVE}\\{ROOT}"] if found else []
        return Status(self.name, self.title, True, found == len(plan), same == len(plan), where)


def _winreg() -> types.ModuleType:
    if sys.platform != "win32":
        raise IntegrationError("the Explorer menu is written on Windows only; "
                               "`photofinder integrate export` writes its .reg file anywhere")
    import winreg

    return winreg
