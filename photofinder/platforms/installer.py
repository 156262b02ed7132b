"""Install, remove and report the integrations of this OS (or write any OS's files into a
folder to look at: ``export``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from photofinder.paths import data_dir
from photofinder.platforms import current
from photofinder.platforms.integration import (
    Integration,
    IntegrationError,
    Record,
    Status,
)
from photofinder.platforms.launcher import Launcher

PLATFORMS = ("freedesktop", "windows", "macos")


def integrations(platform: str | None = None) -> list[Integration]:
    platform = platform or current()
    if platform == "windows":
        from photofinder.platforms.windows import Explorer

        return [Explorer()]
    if platform == "macos":
        from photofinder.platforms.macos import Finder

        return [Finder()]
    from photofinder.platforms.file_managers import Dolphin, Nautilus, Nemo
    from photofinder.platforms.freedesktop import DesktopEntry
    from photofinder.platforms.thunar import Thunar

    return [DesktopEntry(), Nautilus(), Dolphin(), Thunar(), Nemo()]


def record_path() -> Path:
    return data_dir() / "integration.json"


@dataclass
class Outcome:
    name: str
    title: str
    changed: list[str] = field(default_factory=list)
    skipped: str = ""  # why nothing was done (file manager not found)


def choose(names: list[str] | None, everything: bool) -> list[Integration]:
    """The integrations to install: those named, or every one with ``everything``, else the
    ones whose file manager is found here (the desktop entry always)."""
    found = integrations()
    if names:
        known = {i.name for i in found}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise IntegrationError(f"unknown integration {', '.join(unknown)} "
                                   f"(here: {', '.join(sorted(known))})")
        return [i for i in found if i.name in names]
    return found if everything else [i for i in found if i.detected()]


def install(launcher: Launcher, names: list[str] | None = None,
            everything: bool = False) -> list[Outcome]:
    record = Record(record_path())
    chosen = {c.name for c in choose(names, everything)}
    out = []
    try:
        for i in integrations():
            if i.name in chosen:
                out.append(Outcome(i.name, i.title, i.install(launcher, record)))
            else:
                out.append(Outcome(i.name, i.title, skipped="not found here (--all installs it anyway)"))
    finally:
        record.save()
    return out


def uninstall(launcher: Launcher, names: list[str] | None = None) -> list[Outcome]:
    record = Record(record_path())
    chosen = choose(names, everything=True)
    out = []
    try:
        for i in chosen:
            out.append(Outcome(i.name, i.title, i.uninstall(launcher, record)))
    finally:
        record.save()
    return out


def status(launcher: Launcher) -> list[Status]:
    return [i.status(launcher) for i in integrations()]


def export(launcher: Launcher, folder: Path, platform: str) -> list[Path]:
    """Write ``platform``'s integration files into ``folder`` for a look (and for copying by
    hand onto that OS): the freedesktop and macOS files as they would be installed, below
    folder, and the Windows registry values as a .reg file to add and one to remove."""
    folder = Path(folder)
    written = []
    if platform == "windows":
        from photofinder.platforms.windows import reg_file, registry_plan

        for name, text in (("install.reg", reg_file(registry_plan(launcher))),
                           ("uninstall.reg", reg_file([], remove=True))):
            p = folder / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(text.encode("utf-16"))  # what regedit expects for version 5 files
            written.append(p)
        return written
    for i in integrations(platform):
        for f in i.plan(launcher):
            try:
                rel = Path("HOME") / f.path.relative_to(Path.home())
            except ValueError:
                rel = f.path.relative_to(f.path.anchor)
            p = folder / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(f.content)
            if f.executable:
                p.chmod(0o755)
            written.append(p)
    return written
