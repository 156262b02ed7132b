"""Thunar (Xfce) custom action. Thunar keeps every custom action in one file,
``$XDG_CONFIG_HOME/Thunar/uca.xml``, so ours is merged in and taken out again by its
unique id; the user's other actions are never touched. When the user has no uca.xml yet,
Thunar shows the system's default actions (``/etc/xdg/Thunar/uca.xml``): the new file starts
from those so they stay, and uninstall removes the file again if only they are left."""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from photofinder.platforms import ACTION_NAME, APP_ID
from photofinder.platforms.freedesktop import ICONS, config_home
from photofinder.platforms.integration import (
    Integration,
    IntegrationError,
    PlannedFile,
    Record,
    Status,
    remove_created,
)
from photofinder.platforms.launcher import Launcher, sh_command

UNIQUE_ID = f"{APP_ID}-find-similar"
EMPTY = '<?xml version="1.0" encoding="UTF-8"?>\n<actions>\n</actions>\n'


def uca_path() -> Path:
    return config_home() / "Thunar" / "uca.xml"


def system_uca() -> str:
    """The system's default actions, as Thunar would show them without a user file."""
    dirs = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    for d in dirs.split(os.pathsep):
        p = Path(d) / "Thunar" / "uca.xml"
        try:
            return p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return EMPTY


def action_element(launcher: Launcher) -> ET.Element:
    a = ET.Element("action")
    for tag, text in (("icon", ICONS["find-similar"]), ("name", ACTION_NAME), ("submenu", ""),
                      ("unique-id", UNIQUE_ID),
                      ("command", f"{sh_command(launcher.gui())} %F"),
                      ("description", "Search the photofinder library for photos like these"),
                      ("range", "*"), ("patterns", "*")):
        ET.SubElement(a, tag).text = text
    ET.SubElement(a, "startup-notify")
    ET.SubElement(a, "image-files")
    a.text = "\n\t"
    for child in a:
        child.tail = "\n\t"
    a[-1].tail = "\n"
    return a


def _parse(text: str, where: Path) -> ET.Element:
    try:
        root = ET.fromstring(text, parser=ET.XMLParser(target=ET.TreeBuilder(insert_comments=True)))
    except ET.ParseError as e:
        raise IntegrationError(f"Thunar: {where} is not valid XML ({e}); it was left as it is") from None
    if root.tag != "actions":
        raise IntegrationError(f"Thunar: {where} is not a Thunar actions file; it was left as it is")
    return root


def _ours(root: ET.Element) -> list[ET.Element]:
    return [a for a in root.findall("action") if (a.findtext("unique-id") or "") == UNIQUE_ID]


def _serialise(root: ET.Element) -> bytes:
    if len(root):
        root.text = root.text if (root.text or "").strip() == "" and root.text else "\n"
        root[-1].tail = "\n"
        for a in root[:-1]:
            a.tail = a.tail if a.tail and a.tail.strip() == "" else "\n"
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


def _canonical(root: ET.Element) -> list[bytes]:
    return [ET.tostring(a, encoding="utf-8").strip() for a in root.findall("action")]


class Thunar(Integration):
    name = "thunar"
    title = "Thunar (Xfce) custom action"

    def detected(self) -> bool:
        return bool(shutil.which("thunar") or shutil.which("Thunar"))

    def plan(self, launcher: Launcher) -> list[PlannedFile]:
        """The whole uca.xml as it will be after install (ours merged into what is there)."""
        path = uca_path()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = system_uca()
        except (OSError, UnicodeDecodeError) as e:
            raise IntegrationError(f"Thunar: cannot read {path} ({e})") from None
        root = _parse(text, path)
        for a in _ours(root):
            root.remove(a)
        root.append(action_element(launcher))
        return [PlannedFile(path, _serialise(root))]

    def install(self, launcher: Launcher, record: Record) -> list[str]:
        path = uca_path()
        existed = path.exists()
        written = super().install(launcher, record)
        if written and not existed:
            record.add(self.name, path)
        return written

    def uninstall(self, launcher: Launcher, record: Record) -> list[str]:
        path = uca_path()
        removed: list[str] = []
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return remove_created(record, self.name)
        root = _parse(text, path)
        ours = _ours(root)
        if ours:
            for a in ours:
                root.remove(a)
            created = str(path) in record.created(self.name)
            if created and _canonical(root) == _canonical(_parse(system_uca(), path)):
                path.unlink()  # only the system's defaults left: as before the install
            else:
                tmp = path.with_name(".uca.xml.photofinder-tmp")
                tmp.write_bytes(_serialise(root))
                os.replace(tmp, path)
            removed.append(f"{path} (action {UNIQUE_ID})")
        record.forget(self.name)  # uca.xml: handled above
        return removed + remove_created(record, self.name)

    def status(self, launcher: Launcher) -> Status:
        path = uca_path()
        try:
            root = _parse(path.read_text(encoding="utf-8"), path)
        except (OSError, UnicodeDecodeError, IntegrationError):
            return Status(self.name, self.title, self.detected(), False, False, [])
        ours = _ours(root)
        want = ET.tostring(action_element(launcher), encoding="utf-8").strip()
        current = len(ours) == 1 and ET.tostring(ours[0], encoding="utf-8").strip() == want
        where = [f"{path} (action {UNIQUE_ID})"] if ours else []
        return Status(self.name, self.title, self.detected(), bool(ours), current, where)

