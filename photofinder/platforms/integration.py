"""What every file-manager integration shares: a plan of files, written idempotently, removed
without a trace, and a status that says what is installed where.

Folders an install had to create are remembered in a small record (``integration.json`` in
the user data dir) so that uninstall removes them again when they are empty, and only them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from photofinder.errors import PhotofinderError
from photofinder.platforms.launcher import Launcher


class IntegrationError(PhotofinderError):
    """An integration could not be written or removed; one line for the user."""


@dataclass(frozen=True)
class PlannedFile:
    path: Path
    content: bytes
    executable: bool = False


@dataclass
class Status:
    name: str
    title: str
    detected: bool       # the file manager (or the OS feature) is present here
    installed: bool      # everything the integration writes is there
    current: bool        # ... and it matches what this installation would write now
    where: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        if not self.installed:
            return "partly installed" if self.where else "not installed"
        return "installed" if self.current else "installed, outdated (run install again)"


DIRS = "folders"  # the record's key for folders: shared, as integrations share parents


class Record:
    """What installs created beyond their own files: folders (shared by all integrations)
    and, per integration, files that are not ours by name (Thunar's uca.xml, a cache)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.data: dict[str, list[str]] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.data = {}

    def add(self, name: str, path: Path) -> None:
        items = self.data.setdefault(name, [])
        if str(path) not in items:
            items.append(str(path))

    def created(self, name: str) -> list[str]:
        return list(self.data.get(name, []))

    def forget(self, name: str) -> None:
        self.data.pop(name, None)

    def save(self) -> None:
        if not any(self.data.values()):
            try:
                self.path.unlink()
                self.path.parent.rmdir()  # photofinder's data dir, when the record was all in it
            except OSError:
                pass
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        os.replace(tmp, self.path)


def make_dirs(folder: Path, record: Record, name: str) -> None:
    """``mkdir -p`` that records each folder it creates."""
    missing = []
    p = Path(folder)
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        d.mkdir()
        record.add(DIRS, d)


def write_file(f: PlannedFile, record: Record, name: str) -> bool:
    """Write ``f`` unless it is already there with the same bytes; True when written."""
    try:
        if f.path.read_bytes() == f.content and (not f.executable or os.access(f.path, os.X_OK)):
            return False
    except OSError:
        pass
    make_dirs(f.path.parent, record, name)
    tmp = f.path.with_name("." + f.path.name + ".photofinder-tmp")
    tmp.write_bytes(f.content)
    if f.executable:
        os.chmod(tmp, 0o755)
    os.replace(tmp, f.path)
    return True


def remove_created(record: Record, name: str) -> list[str]:
    """Remove the files ``record`` says integration ``name``'s install created, then every
    recorded folder that is empty now (deepest first); a folder still in use stays recorded."""
    removed = []
    for p in record.created(name):
        try:
            os.unlink(p)
            removed.append(p)
        except FileNotFoundError:
            pass
        except OSError:
            continue
    record.forget(name)
    kept = []
    for p in sorted(record.created(DIRS), key=lambda s: s.count(os.sep), reverse=True):
        try:
            os.rmdir(p)
            removed.append(p)
        except FileNotFoundError:
            pass
        except OSError:  # not empty: other integrations, or the user, keep things there
            kept.append(p)
    record.forget(DIRS)
    for p in kept:
        record.add(DIRS, Path(p))
    return removed


class Integration:
    """One place a "Find similar photos" action lives. Subclasses give ``name``, ``title``,
    ``detected()`` and ``plan()``; those that merge into shared files override the rest."""

    name = ""
    title = ""

    def detected(self) -> bool:
        return True

    def plan(self, launcher: Launcher) -> list[PlannedFile]:
        raise NotImplementedError

    def install(self, launcher: Launcher, record: Record) -> list[str]:
        written = []
        try:
            for f in self.plan(launcher):
                if write_file(f, record, self.name):
                    written.append(str(f.path))
        except OSError as e:
            raise IntegrationError(f"{self.title}: cannot write {e.filename}: {e.strerror}") from None
        return written

    def uninstall(self, launcher: Launcher, record: Record) -> list[str]:
        return self.remove_planned(launcher) + remove_created(record, self.name)

    def remove_planned(self, launcher: Launcher) -> list[str]:
        removed = []
        for f in self.plan(launcher):
            try:
                f.path.unlink()
                removed.append(str(f.path))
            except FileNotFoundError:
                pass
            except OSError as e:
                raise IntegrationError(f"{self.title}: cannot remove {f.path}: {e.strerror}") from None
        return removed

    def status(self, launcher: Launcher) -> Status:
        plan = self.plan(launcher)
        there = [f for f in plan if f.path.is_file()]
        current = all(f.path.read_bytes() == f.content for f in there)
        return Status(self.name, self.title, self.detected(), len(there) == len(plan),
                      current and len(there) == len(plan), [str(f.path) for f in there])
