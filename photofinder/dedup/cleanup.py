"""Clean-up: duplicate copies to the system trash and back, through a write-ahead journal.

``trash(catalog, index, paths, groups, dry_run=False) -> TrashReport``: for each copy, right
before its move: the copy still has the size, mtime and content hash its group was built on,
and the group's keeper (``Group.keep``, a PATH, never trashed itself) still exists with its
hash and is not on an offline drive; else the copy is skipped and the report says why. Then
(platforms/trash.py) its trash entry is reserved, the intent is committed ON ITS OWN with the
exact entry, the file is renamed into the trash, and the outcome is committed with the
photo's removal from the catalogue. A crash at any point leaves either the file in place or a
committed journal row naming where it is; ``recovery.recover`` settles open rows on the next
open, so every batch stays undoable.

``undo(catalog, batch=None) -> UndoReport``: puts a batch back. The catalogue is data, not
authority: a journal row is acted on only when it names a plain entry in one of the user's
own trash folders, a path inside a folder the library had registered when the batch was
made (compared with symlinks resolved; a folder removed since still counts), a content hash;
the entry must hold that content (a symlink by its target, read from the photo's place) and
its ``.trashinfo`` must name that path. A row that fails is refused with the reason (and
marked ``gone`` only when the trash no longer holds its content); a blocked file does not
stop the others and every file's outcome is reported.

Both take ``step``, called with the name of each step as it is passed (TRASH_STEPS,
UNDO_STEPS); production passes nothing. Fault injection (tests/faultkit.py, used by the tests
and benchmarks/fault_campaign.py) hands in one that kills the process or fails a disk there.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import sqlite3
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence, cast

from photofinder.errors import PhotofinderError
from photofinder.platforms import trash as T
from photofinder.store.journal import FAILED, GONE, MOVED, RESTORING, UNDONE

if TYPE_CHECKING:
    from photofinder.dedup.finder import Group, Member


class CleanupError(PhotofinderError):
    """One line for the user."""


# -- the named steps of trash and undo (where a crash may come) ------------------------------
TRASH_STEPS = ("verified", "reserved", "intent", "moved", "outcome", "indexed")
UNDO_STEPS = ("undo-verified", "restoring", "restored", "undone")
Step = Callable[[str], None]


def no_step(name: str) -> None:
    """The default ``step``: nothing happens between steps."""


# -- reports --------------------------------------------------------------------------------
@dataclass
class TrashReport:
    batch: str | None
    trashed: list[str]
    refused: dict[str, str]  # path -> why not
    dry_run: bool = False
    error: str | None = None  # the batch stopped early (what was moved is in ``trashed``)
    by_hand: bool = False  # macOS/Windows: undo means restoring from the system Trash


class UndoReport(list):
    """The paths put back (a list, as before), the batch, and each file that was not:
    ``blocked`` maps path -> why."""

    def __init__(self, batch: str, restored=(), blocked: dict[str, str] | None = None):
        super().__init__(restored)
        self.batch = batch
        self.blocked = blocked or {}


# -- checks at the moment of action --------------------------------------------------------
def file_hash(path: str) -> str:
    """The content hash the catalogue records (imaging.content_hash), read in chunks."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _check_keeper(g: "Group", offline: list[str]) -> tuple[str | None, tuple | None]:
    """(why not, the keeper's stat facts): the keeper exists with the hash it was judged on."""
    keep = next((m for m in g.members if m.path == g.keep), None)
    drive = next((f for f in offline if _under(g.keep, f)), None)
    if drive:
        return (f"the copy to keep ({g.keep}) is on a drive that is offline ({drive}); nothing "
                "in its group is trashed until it is back"), None
    try:
        st = os.stat(g.keep)
        digest = file_hash(g.keep)
    except OSError:
        return (f"the copy to keep ({g.keep}) is gone or unreadable; nothing in its group is "
                "trashed"), None
    if keep is not None and keep.hash and digest != keep.hash:
        return (f"the copy to keep ({g.keep}) changed since the duplicates were found; find "
                "duplicates again"), None
    return None, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _check_member(m: "Member") -> tuple[str | None, os.stat_result | None]:
    try:
        st = os.stat(m.path)
    except OSError:
        return "no longer on disk", None
    if (m.size is not None and st.st_size != m.size) or \
            (m.mtime_ns is not None and st.st_mtime_ns != m.mtime_ns):
        return "changed on disk since the duplicates were found; find duplicates again", None
    try:
        digest = file_hash(m.path)
    except OSError as e:
        return f"cannot be read: {e.strerror or e}", None
    if m.hash and digest != m.hash:
        return "its content is not what was found (changed on disk); find duplicates again", None
    return None, st


# -- trash ---------------------------------------------------------------------------------
def _own(path: str) -> "Member":
    """A photo the user trashes by hand (no group): its facts are read at the move."""
    from photofinder.dedup.findings import Member

    return Member(path, "own", 1.0, [], 0, "")


def _plan(paths: list[str], groups: list["Group"], offline: list[str], by_hand: bool = False):
    """Which copies may go at all (never a keeper, never the last copy, nothing of a group
    whose keeper is on an offline drive), in order. ``by_hand``: the user's own choice, as
    in a file manager: every photo that is on disk goes (its group is None)."""
    wanted = list(dict.fromkeys(os.path.abspath(p) for p in paths))
    if by_hand:
        missing = {p: "no longer on disk" for p in wanted if not os.path.lexists(p)}
        return [(None, _own(p)) for p in wanted if p not in missing], missing
    where = {m.path: (g, m) for g in groups for m in g.members}
    refused: dict[str, str] = {}
    plan: list[tuple] = []
    gone: set[str] = set()
    for i, p in enumerate(wanted):
        if p not in where:
            refused[p] = "not in any duplicate group"
            continue
        g, m = where[p]
        keep = next((k for k in g.members if k.path == g.keep), None)
        if p == g.keep:
            refused[p] = "this is the copy to keep"
            continue
        if keep is not None and p in keep.also:
            refused[p] = "the same file as the copy to keep (hard link)"
            continue
        drive = next((f for f in offline if _under(g.keep, f)), None)
        if drive:
            refused[p] = (f"the copy to keep ({g.keep}) is on a drive that is offline ({drive}); "
                          "nothing in its group is trashed until it is back")
            continue
        later = set(wanted[i + 1:])
        survivors = [o.path for o in g.members if o.path != p and o.path not in gone
                     and (o.path == g.keep or o.path not in later)]  # the keeper stays
        if not any(_exists_apart(s, gone | {p}) for s in survivors):
            refused[p] = "the last copy of its group is never trashed"
            continue
        if not os.path.exists(p):
            refused[p] = "no longer on disk"
            continue
        plan.append((g, m))
        gone.add(p)
        gone.update(m.also)
    return plan, refused


def trash(catalog, index, paths: list[str], groups: list["Group"], dry_run: bool = False,
          offline: Sequence[str] = (), step: Step = no_step, by_hand: bool = False) -> TrashReport:
    """Move duplicate copies to the system trash (module docstring). The caller holds the
    writer lock and has run recovery. ``index`` may be None (not loaded: it reconciles with
    the catalogue when it is); ``offline``: folders whose drive is gone. ``by_hand``: photos
    the user trashes themselves (``groups`` unused): no keeper or last-copy rule, the same
    journal, the same checks of the trash, the same undo; each file's hash is read at its
    move and journaled."""
    plan, refused = _plan(paths, groups, list(offline), by_hand)
    if dry_run or not plan:
        return TrashReport(None, [m.path for _, m in plan], refused, dry_run)
    batch = uuid.uuid4().hex[:12]
    trashed: list[str] = []
    labels: list[int] = []
    keepers: dict[int, tuple] = {}
    error = None
    for n, (g, m) in enumerate(plan):
        # by hand: the file as it is now is what goes (and what undo checks)
        why, st = _read_own(m) if g is None else _verify(g, m, keepers, list(offline))
        if why:
            refused[m.path] = why
            continue
        st = cast(os.stat_result, st)  # (no reason: the file's facts)
        step("verified")
        try:
            entry = T.reserve(m.path)
        except T.TrashError as e:
            refused[m.path] = str(e)
            continue
        except OSError as e:
            refused[m.path] = f"cannot reach the trash: {e.strerror or e}"
            continue
        step("reserved")
        try:
            eid = catalog.journal.intent(batch, m.path, m.hash, st.st_size, st.st_mtime_ns,
                                         entry.trash_dir, entry.name)
        except sqlite3.Error as e:
            T.release(entry)
            error = f"the catalogue cannot be written ({e}); nothing more was moved"
            _stop(plan[n:], refused, error)
            break
        step("intent")
        try:
            T.move(m.path, entry)
        except T.TrashError as e:
            T.release(entry)
            refused[m.path] = str(e)
            if not _record(catalog, eid, FAILED, str(e)):
                error = "the catalogue cannot be written; nothing more was moved"
                _stop(plan[n + 1:], refused, error)
                break
            continue
        step("moved")
        try:
            labels += catalog.journal.moved(eid, m.path)
        except sqlite3.Error as e:
            error = _put_back(catalog, eid, entry, m.path, e)
            refused[m.path] = error
            _stop(plan[n + 1:], refused, error)
            break
        step("outcome")
        trashed.append(m.path)
    if labels and index is not None:
        index.remove(labels)
        try:
            index.save()
        except OSError:
            pass  # derived: it reconciles with the catalogue on the next open
    step("indexed")
    return TrashReport(batch if trashed else None, trashed, refused, error=error,
                       by_hand=bool(trashed) and not T.FREEDESKTOP)


def _verify(g: "Group", m: "Member", keepers: dict, offline: list[str]
            ) -> tuple[str | None, os.stat_result | None]:
    """A copy of a group, right before its move: its keeper is there as judged (checked once
    a group, its stat facts again each time), the copy is the file that was compared."""
    if id(g) not in keepers:
        keepers[id(g)] = _check_keeper(g, offline)
    why, facts = keepers[id(g)]
    if why is None:
        try:
            st = os.stat(g.keep)
            if (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) != facts:
                why = f"the copy to keep ({g.keep}) changed meanwhile; find duplicates again"
        except OSError:
            why = f"the copy to keep ({g.keep}) is gone; nothing in its group is trashed"
        if why:
            keepers[id(g)] = (why, None)
    if why:
        return why, None
    return _check_member(m)


def _read_own(m: "Member") -> tuple[str | None, os.stat_result | None]:
    """A photo trashed by hand: on disk and readable; its hash (for undo) read now."""
    try:
        st = os.stat(m.path)
        m.hash = file_hash(m.path)
    except FileNotFoundError:
        return "no longer on disk", None
    except OSError as e:
        return f"cannot be read: {e.strerror or e}", None
    m.size, m.mtime_ns = st.st_size, st.st_mtime_ns
    return None, st


def _stop(rest, refused: dict, error: str) -> None:
    for _, m in rest:
        refused.setdefault(m.path, "not tried: " + error)


def _record(catalog, entry_id: int, state: str, reason: str | None = None) -> bool:
    try:
        catalog.journal.set_state(entry_id, state, reason)
        return True
    except sqlite3.Error:
        return False  # the intent stays open: recovery settles it against the disk


def _put_back(catalog, eid: int, entry: T.Entry, path: str, e: Exception) -> str:
    """The move could not be recorded: the file goes back where it was, at once."""
    if entry.trash_dir is None:
        return f"moved to the trash but the catalogue cannot be written ({e}); nothing more moved"
    try:
        T.restore(entry, path)
    except T.TrashError:
        return (f"moved to the trash but the catalogue cannot be written ({e}); its journal "
                "row is kept, undo finds it once the catalogue can be written")
    _record(catalog, eid, FAILED, "put back: the catalogue could not record the move")
    return f"not moved: the catalogue cannot be written ({e}); nothing more was moved"


def trash_groups(catalog, index, groups: list["Group"], dry_run: bool = False,
                 offline: Sequence[str] = (), step: Step = no_step) -> TrashReport:
    """Trash every copy but the keeper of each group."""
    return trash(catalog, index, [m.path for g in groups for m in g.others], groups, dry_run,
                 offline, step)


# -- undo ----------------------------------------------------------------------------------
def last_batch(catalog) -> str | None:
    return catalog.journal.last_batch()


def content_facts(file: str, home: str) -> tuple[int, str]:
    """(size, content hash) of ``file`` (a trash entry, or a file put back at ``home``), read
    without ever following a link from where it lies: a symlink is checked by its target as
    the link reads at ``home`` (a relative link resolves from the photo's folder, not from
    the trash)."""
    st = os.lstat(file)
    if stat.S_ISLNK(st.st_mode):
        target = os.path.join(os.path.dirname(T.real_path(home)), os.readlink(file))
        return os.stat(target).st_size, file_hash(target)
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "not a file")
    return st.st_size, file_hash(file)


def _under_any(path: str, folders: list) -> bool:
    """``path``, its folders' symlinks resolved, lies inside one of ``folders``
    (RegisteredFolder: as it resolves now, or as it resolved when registered)."""
    real = T.real_path(path)
    return any(_under(real, os.path.realpath(f.path)) or (f.real and _under(real, f.real))
               for f in folders)


def _refuse_row(e, folders: list) -> str | None:
    """Why a journal row may not be acted on, whatever the disk holds: the catalogue is data,
    not authority. Undo restores only into a folder registered when the batch was made,
    from a trash folder of this user's, a plain entry name, with a content hash to check."""
    if not os.path.isabs(e.path) or os.path.normpath(e.path) != e.path:
        return f"the journal names an odd path ({e.path!r}); refused"
    if not T.plain_name(e.trash_name or ""):
        return f"the journal names a trash entry that is no plain name ({e.trash_name!r}); refused"
    if os.path.abspath(e.trash_dir) not in T.own_trash_dirs(e.path):
        return (f"the journal names {e.trash_dir}, which is not one of your trash folders for "
                f"{e.path}; refused")
    why = T.not_ours(e.trash_dir)
    if why:
        return f"the trash folder is not yours alone: {why}; refused"
    if not _under_any(e.path, folders):
        return (f"{e.path} is not inside a folder this library had when the clean-up was made; "
                "refused")
    if not e.hash:
        return "the journal row has no content hash to check the file against; refused"
    return None


def _check_restorable(e, folders: list) -> tuple[str | None, str | None]:
    """(why not, state to record): the row may be acted on (``_refuse_row``), the trash entry
    holds our file (its content hash) and names our path (its ``.trashinfo``), and the path
    is free. Only an entry that is gone or holds other content is recorded ``gone``."""
    if e.trash_dir is None:
        return f"restore it from the Trash: {e.trash_name}", None
    why = _refuse_row(e, folders)
    if why:
        return why, None
    entry = T.Entry(e.trash_dir, e.trash_name)
    if not os.path.lexists(entry.file):
        return f"no longer in the trash (emptied?): {entry.file}", GONE
    try:
        size, digest = content_facts(entry.file, e.path)
    except OSError as ex:
        return f"the trash entry cannot be read: {ex.strerror or ex}", None
    if digest != e.hash or (e.size is not None and size != e.size):
        return (f"the trash entry {e.trash_name} holds another file now (its content differs); "
                "the trash was emptied since"), GONE
    named = T.recorded_path(entry)
    if named is None:
        return (f"the trash entry {e.trash_name} has no readable .trashinfo naming where it came "
                "from; refused (the file is still in the trash)"), None
    if T.real_path(named) != T.real_path(e.path):
        return (f"the trash entry {e.trash_name} says it came from {named}, not {e.path}; "
                "refused (the file is still in the trash)"), None
    if os.path.lexists(e.path):
        return f"a file is at {e.path} again; move it away and undo again", None
    return None, None


def undo(catalog, batch: str | None = None, step: Step = no_step) -> UndoReport:
    """Put a trash batch back (the last one by default), each file after checking its trash
    entry; a blocked file does not stop the rest. The caller holds the writer lock, has run
    recovery, and indexes what came back."""
    if batch is None:
        batch = last_batch(catalog)
        if batch is None:
            raise CleanupError("nothing to undo")
    elif not catalog.journal.batch_exists(batch):
        raise CleanupError(f"no clean-up {batch!r} in this library's journal")
    entries = catalog.journal.batch(batch)
    if not entries:
        raise CleanupError(f"clean-up {batch} has nothing left in the trash to put back")
    report = UndoReport(batch)
    for e in entries:
        why, state = _check_restorable(e, catalog.folders.registered_at(e.at))
        if why:
            report.blocked[e.path] = why
            if state:
                _record(catalog, e.id, state, why)
            continue
        step("undo-verified")
        if not _record(catalog, e.id, RESTORING):
            raise CleanupError("the catalogue cannot be written; nothing was put back")
        step("restoring")
        try:
            T.restore(T.Entry(e.trash_dir, e.trash_name), e.path)
        except T.TrashError as ex:
            report.blocked[e.path] = str(ex)
            _record(catalog, e.id, MOVED, str(ex))
            continue
        step("restored")
        _record(catalog, e.id, UNDONE)  # left open if it fails: recovery completes it
        step("undone")
        report.append(e.path)
    return report


__all__ = ["CleanupError", "TrashReport", "UndoReport", "trash", "trash_groups", "undo",
           "last_batch", "file_hash", "Step", "no_step", "TRASH_STEPS", "UNDO_STEPS"]
