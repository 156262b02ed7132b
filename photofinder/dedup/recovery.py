"""Recovery: settle the journal rows a crash left open (``intent``, ``restoring``) against
the trash and the disk, so an interrupted batch is always undoable and the catalogue never
lists a moved file as present. Run under the writer lock, before any trash or undo and when
a library opens.

- ``intent`` + the file in its recorded trash entry -> ``moved`` (the photo leaves the
  catalogue; undo puts it back);
- ``intent`` + the file still in place -> ``failed`` (the reserved ``.trashinfo`` goes);
- ``restoring`` + the file back in place -> ``undone`` (a leftover trash link and its
  ``.trashinfo`` go); + the file still in the trash -> ``moved`` again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from photofinder.dedup.cleanup import content_facts
from photofinder.platforms import trash as T
from photofinder.store.journal import FAILED, INTENT, MOVED, UNDONE


@dataclass
class Recovered:
    settled: list[tuple[str, str]] = field(default_factory=list)  # (path, new state)
    removed_labels: list[int] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)  # back on disk: to index again


def _ours(path: str, e) -> bool:
    """The file at ``path`` is the one the entry journaled (content hash, else size; a
    symlink by its target as it reads at the photo's place)."""
    try:
        size, digest = content_facts(path, e.path)
    except OSError:
        return False
    return digest == e.hash if e.hash else (e.size is None or size == e.size)


def _same_file(a: str, b: str) -> bool:
    """Two names of one file (a hard link; symlinks compared as links, never followed)."""
    try:
        sa, sb = os.lstat(a), os.lstat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _our_trash(e) -> bool:
    """The row names a plain entry in a trash folder of this user's (a tampered row names
    another place: recovery never touches a file there)."""
    return (e.trash_dir is not None and T.plain_name(e.trash_name or "")
            and os.path.abspath(e.trash_dir) in T.own_trash_dirs(e.path)
            and T.not_ours(e.trash_dir) is None)


def recover(catalog) -> Recovered:
    out = Recovered()
    for e in catalog.journal.open_entries():
        entry = T.Entry(e.trash_dir, e.trash_name)
        at_home = os.path.lexists(e.path)
        ours = _our_trash(e)
        in_trash = ours and os.path.lexists(entry.file)
        if e.state == INTENT:
            if e.trash_dir is None:
                moved = not at_home  # the system's trash: where exactly is its business
            else:
                moved = in_trash and (not at_home or _ours(entry.file, e))
            if moved:
                out.removed_labels += catalog.journal.moved(e.id, e.path)
                out.settled.append((e.path, MOVED))
            else:
                if ours:
                    T.release(entry)
                why = ("interrupted before the move" if at_home
                       else "not found in its place nor in the trash")
                catalog.journal.set_state(e.id, FAILED, why)
                out.settled.append((e.path, FAILED))
        else:  # restoring
            if at_home and (not in_trash or _same_file(e.path, entry.file)):
                if in_trash:  # linked back, the trash side not unlinked yet
                    os.unlink(entry.file)
                if ours:
                    T.release(entry)
                catalog.journal.set_state(e.id, UNDONE)
                out.settled.append((e.path, UNDONE))
                out.restored.append(e.path)
            elif in_trash:
                catalog.journal.set_state(e.id, MOVED, "undo was interrupted; undo again")
                out.settled.append((e.path, MOVED))
            else:
                catalog.journal.set_state(e.id, FAILED, "not found in its place nor in the trash")
                out.settled.append((e.path, FAILED))
    return out


__all__ = ["recover", "Recovered"]
