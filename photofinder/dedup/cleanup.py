"""Moving copies to the system trash (send2trash), journaled, and undoing it.

Every move is a journal row (action 'trash', path, content hash, batch id, detail JSON naming
the trash entry). Undo puts a batch back where it was: on freedesktop systems (Linux, BSD) by
moving the file out of the trash folder that holds it (``$XDG_DATA_HOME/Trash`` or the
volume's ``.Trash-UID``) and removing its ``.trashinfo``; elsewhere undo says to restore from
the system's Trash by hand. Nothing is ever deleted.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from send2trash import send2trash

from photofinder.errors import PhotofinderError

if TYPE_CHECKING:
    from photofinder.dedup.finder import Group


class CleanupError(PhotofinderError):
    """One line for the user."""


def _trash_dirs(path: str) -> list[Path]:
    xdg = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    dirs = [Path(xdg) / "Trash"]
    try:
        p = Path(path).parent
        while not os.path.ismount(p) and p != p.parent:
            p = p.parent
        uid = os.getuid()
        dirs += [p / ".Trash" / str(uid), p / f".Trash-{uid}"]
    except (OSError, AttributeError):
        pass
    return dirs


def _find_trash_entry(path: str, after: float) -> tuple[str, str] | None:
    """(trash dir, entry name) of the newest trash entry for ``path`` made at or after
    ``after`` (freedesktop trash spec)."""
    if sys.platform in ("win32", "darwin"):
        return None
    best = None
    for d in _trash_dirs(path):
        info = d / "info"
        if not info.is_dir():
            continue
        for f in info.glob("*.trashinfo"):
            try:
                if f.stat().st_mtime < after - 2:
                    continue
                text = f.read_text(errors="replace")
            except OSError:
                continue
            for line in text.splitlines():
                if line.startswith("Path="):
                    p = unquote(line[5:])
                    if not os.path.isabs(p):
                        p = str(d.parent.parent / p) if d.name.startswith(".Trash") else p
                    if p == path and (best is None or f.stat().st_mtime >= best[0]):
                        best = (f.stat().st_mtime, str(d), f.name[:-len(".trashinfo")])
    return (best[1], best[2]) if best else None


def _send(path: str) -> None:
    """send2trash, honouring the current ``XDG_DATA_HOME`` (send2trash reads it once, at
    import; a test or an embedding app may set it later)."""
    if sys.platform not in ("win32", "darwin"):
        try:
            from send2trash import plat_other

            home = os.path.expanduser(os.environ.get("XDG_DATA_HOME") or "~/.local/share")
            if plat_other.HOMETRASH != os.path.join(home, "Trash"):
                plat_other.XDG_DATA_HOME = os.fsencode(home)
                plat_other.HOMETRASH_B = os.path.join(os.fsencode(home), b"Trash")
                plat_other.HOMETRASH = os.path.join(home, "Trash")
        except (ImportError, AttributeError):
            pass
    send2trash(path)


def trash_files(catalog, paths_and_hashes: list[tuple[str, str | None]], batch: str | None = None
                ) -> str:
    """Send files to the trash, one journal row each (written before the move, so a crash
    mid-way never leaves a move unjournaled); returns the batch id."""
    batch = batch or uuid.uuid4().hex[:12]
    for path, hash_ in paths_and_hashes:
        start = time.time()
        entry_id = catalog.journal_trash_intent(path, hash_, batch)
        try:
            _send(path)
        except Exception as e:
            catalog.journal_forget(entry_id)  # nothing moved
            raise CleanupError(f"could not move {path} to the trash: {e}") from None
        entry = _find_trash_entry(path, start)
        if entry:
            catalog.journal_set_detail(entry_id, {"trash_dir": entry[0], "name": entry[1]})
    return batch


def last_batch(catalog) -> str | None:
    return catalog.journal_last_batch()


def undo_batch(catalog, batch: str) -> list[str]:
    """Put back every file of a batch; returns the paths restored."""
    restored = []
    for e in catalog.journal_batch(batch):
        detail = e.detail
        if not detail.get("trash_dir"):
            raise CleanupError(f"{e.path} cannot be put back automatically here; "
                               "restore it from the system Trash")
        src = Path(detail["trash_dir"]) / "files" / detail["name"]
        info = Path(detail["trash_dir"]) / "info" / (detail["name"] + ".trashinfo")
        if os.path.lexists(e.path):
            raise CleanupError(f"cannot put {e.path} back: a file is there again")
        if not os.path.lexists(src):
            raise CleanupError(f"{e.path} is no longer in the trash (emptied?)")
        os.makedirs(os.path.dirname(e.path), exist_ok=True)
        shutil.move(str(src), e.path)
        try:
            info.unlink()
        except OSError:
            pass
        catalog.journal_mark_undone(e.id)
        restored.append(e.path)
    return restored


@dataclass
class TrashReport:
    batch: str | None
    trashed: list[str]
    refused: dict[str, str]  # path -> why not
    dry_run: bool = False


# -- clean-up -----------------------------------------------------------------------------------
def _exists_apart(path: str, gone: set[str]) -> bool:
    """The file is on disk and is not one of the files about to go (by inode)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    for g in gone:
        try:
            other = os.stat(g)
        except OSError:
            continue
        if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
            return False
    return True


def trash(catalog, index, paths: list[str], groups: list["Group"],
          dry_run: bool = False) -> TrashReport:
    """Move duplicate copies to the system trash (see the module docstring). The caller
    holds the writer lock."""
    wanted = [os.path.abspath(p) for p in paths]
    where = {m.path: (g, m) for g in groups for m in g.members}
    refused: dict[str, str] = {}
    todo: list[tuple[str, str]] = []
    gone: set[str] = set()
    for p in wanted:
        if p not in where:
            refused[p] = "not in any duplicate group"
            continue
        g, m = where[p]
        survivors = [o.path for o in g.members if o.path != p and o.path not in gone
                     and o.path not in wanted[wanted.index(p) + 1:]]
        if not any(_exists_apart(s, gone | {p}) for s in survivors):
            refused[p] = "the last copy of its group is never trashed"
            continue
        if not os.path.exists(p):
            refused[p] = "no longer on disk"
            continue
        todo.append((p, m.hash))
        gone.add(p)
        gone.update(m.also)
    if dry_run or not todo:
        return TrashReport(None, [p for p, _ in todo], refused, dry_run)
    with catalog.transaction():
        batch = trash_files(catalog, todo)
        ids = [r.id for p, _ in todo for r in [catalog.photo_by_path(p)] if r]
        labels = catalog.delete_photos(ids)
    index.remove(labels)
    index.save()
    return TrashReport(batch, [p for p, _ in todo], refused)


def trash_groups(catalog, index, groups: list["Group"],
                 dry_run: bool = False) -> TrashReport:
    """Trash every copy but the keeper of each group."""
    return trash(catalog, index, [m.path for g in groups for m in g.others], groups, dry_run)


def undo(catalog, batch: str | None = None) -> list[str]:
    """Put a trash batch back (the last one by default); returns the paths restored. The
    caller holds the writer lock and indexes them again."""
    batch = batch or last_batch(catalog)
    if batch is None:
        raise CleanupError("nothing to undo")
    return undo_batch(catalog, batch)



__all__ = ["CleanupError", "TrashReport", "trash", "trash_groups", "undo", "trash_files",
           "undo_batch", "last_batch"]
