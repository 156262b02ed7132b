"""The system trash, written by hand on freedesktop systems so we KNOW where each file went.

Freedesktop trash spec (Linux, BSD): a file on the home volume goes to
``$XDG_DATA_HOME/Trash`` (default ``~/.local/share/Trash``); a file on another volume goes to
that volume's top-level ``.Trash/$uid`` (only when ``.Trash`` is a real folder, not a symlink,
with the sticky bit) or else ``.Trash-$uid``. The volume is the one that really holds the
file: its folders' symlinks are resolved first (a file itself that is a symlink is trashed and
restored as the link, never through it). Every trash folder used, and its ``files/`` and
``info/``, is the user's own real folder that nobody else may write to; one that fails a
check is never used (``UnusableTrash``: the file stays, with the reason), never another
user's, never reached through a symlink. Each entry is ``files/NAME`` plus
``info/NAME.trashinfo`` (``Path=`` percent-encoded: absolute in the home trash, relative to the
volume's top in a volume trash; ``DeletionDate=``). The ``.trashinfo`` is created first with
O_EXCL (that reserves NAME), then the file is renamed into ``files/`` (same volume: atomic, no
copy). Nothing here ever deletes a user's file.

macOS and Windows: send2trash moves the file; where it went is the system's business, so
undo can only say "restore it from the Trash: NAME".
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import time
from dataclasses import dataclass
from urllib.parse import quote, unquote

from photofinder.errors import PhotofinderError

FREEDESKTOP = sys.platform not in ("win32", "darwin")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class TrashError(PhotofinderError):
    """A file could not be moved to (or back from) the trash; one line for the user."""


@dataclass(frozen=True)
class Entry:
    """One trash entry: ``trash_dir/files/name`` and ``trash_dir/info/name.trashinfo``.
    ``trash_dir`` is None where the system keeps the trash (macOS, Windows)."""
    trash_dir: str | None
    name: str

    @property
    def folder(self) -> str:
        """The trash folder (a freedesktop trash's); ValueError where the system keeps it."""
        if self.trash_dir is None:
            raise ValueError(f"the system keeps the trash of {self.name}: it has no folder here")
        return self.trash_dir

    @property
    def file(self) -> str:
        return os.path.join(self.folder, "files", self.name)

    @property
    def info(self) -> str:
        return os.path.join(self.folder, "info", self.name + ".trashinfo")


def home_trash() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(os.path.abspath(base), "Trash")


def real_path(path: str) -> str:
    """``path`` with the symlinks of its folders resolved and its own name kept (a symlinked
    file is trashed as the link it is, never through it)."""
    p = os.path.abspath(path)
    return os.path.join(os.path.realpath(os.path.dirname(p)), os.path.basename(p))


def volume_top(path: str) -> str:
    """The mount point of the volume that really holds ``path`` (its folders resolved: a
    folder reached through a symlink lives on the volume the link points to)."""
    p = os.path.dirname(real_path(path))
    while not os.path.ismount(p):
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    return p


def _device(path: str) -> int | None:
    p = path
    while True:
        try:
            return os.stat(p).st_dev
        except OSError:
            parent = os.path.dirname(p)
            if parent == p:
                return None
            p = parent


class UnusableTrash(TrashError):
    """A file's volume has no trash folder that may be used (one fails the freedesktop checks,
    or none can be made): the file stays where it is, with this reason. ``copy_to_home``
    tells whether copying it to the user's own trash could stand in (another volume)."""

    def __init__(self, message: str, copy_to_home: bool = False):
        super().__init__(message)
        self.copy_to_home = copy_to_home


def _unsafe(path: str, st: os.stat_result | None = None) -> str | None:
    """Why the folder ``path`` may not hold this user's trash, or None: it must be a real
    folder (not a symbolic link), owned by the user, that nobody else can write to."""
    try:
        st = st or os.lstat(path)
    except OSError as e:
        return f"{path} cannot be read: {e.strerror or e}"
    if stat.S_ISLNK(st.st_mode):
        try:
            where = os.readlink(path)
        except OSError:
            where = "?"
        return f"{path} is a symbolic link (to {where})"
    if not stat.S_ISDIR(st.st_mode):
        return f"{path} is not a folder"
    if st.st_uid != os.getuid():
        return f"{path} belongs to another user (uid {st.st_uid})"
    if st.st_mode & 0o022:
        return f"others may write to {path} (mode {stat.S_IMODE(st.st_mode):o})"
    return None


def _own_folder(path: str) -> None:
    """Make ``path`` (mode 0700) unless it exists, then check it is safe; UnusableTrash if not."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as e:
        raise UnusableTrash(f"{path} cannot be made: {e.strerror or e}") from None
    why = _unsafe(path)
    if why:
        raise UnusableTrash(why)


def _prepare(trash_dir: str) -> None:
    """The trash folder and its ``files/`` and ``info/``, made if needed, each checked."""
    for d in (trash_dir, os.path.join(trash_dir, "files"), os.path.join(trash_dir, "info")):
        _own_folder(d)


def _shared_unsafe(shared: str) -> str | None:
    """Why a volume's shared ``.Trash`` may not be used (spec: a real folder, not a symbolic
    link, with the sticky bit), or None."""
    try:
        st = os.lstat(shared)
    except OSError as e:
        return f"{shared} cannot be read: {e.strerror or e}"
    if stat.S_ISLNK(st.st_mode):
        return f"{shared} is a symbolic link"
    if not stat.S_ISDIR(st.st_mode):
        return f"{shared} is not a folder"
    if not st.st_mode & stat.S_ISVTX:
        return f"{shared} has no sticky bit (others could delete what is in it)"
    return None


def _volume_trash(real: str, top: str) -> str:
    """A volume's trash for this user: ``TOP/.Trash/$uid`` when ``TOP/.Trash`` passes the
    spec's checks and ``$uid`` in it is the user's own real folder; else ``TOP/.Trash-$uid``,
    made by us or checked to be the user's own. A folder that fails a check is never used."""
    uid = os.getuid()
    shared = os.path.join(top, ".Trash")
    skipped = []
    if os.path.lexists(shared):
        why = _shared_unsafe(shared)
        if why is None:
            mine = os.path.join(shared, str(uid))
            try:
                _prepare(mine)
                return mine
            except UnusableTrash as e:
                why = str(e)
        skipped.append(why)
    own = os.path.join(top, f".Trash-{uid}")
    try:
        _prepare(own)
    except UnusableTrash as e:
        raise UnusableTrash(f"no safe trash on the drive of {real} ({top}): "
                            + "; ".join(skipped + [str(e)]) + "; the file is kept",
                            copy_to_home=True) from None
    return own


def trash_dir_for(path: str, home: bool = False) -> tuple[str, str | None]:
    """(trash folder, volume top or None for the home trash) for a file, made if needed, on
    the volume that really holds it (its folders' symlinks resolved). ``home``: the user's
    own trash whatever the volume (a copy across volumes). Raises UnusableTrash when no
    trash folder there passes the freedesktop checks (never another user's, never through
    a symlink)."""
    trash = home_trash()
    real = real_path(path)
    st = os.lstat(real)
    if home or st.st_dev == _device(trash):
        os.makedirs(os.path.dirname(trash), exist_ok=True)
        try:
            _prepare(trash)
        except UnusableTrash as e:
            raise UnusableTrash(f"your trash cannot be used safely: {e}; the file is kept"
                                ) from None
        return trash, None
    return _volume_trash(real, volume_top(real)), volume_top(real)


def own_trash_dirs(path: str) -> list[str]:
    """The trash folders of this user a file at ``path`` may have gone to: the home trash and
    its volume's ``.Trash/$uid`` and ``.Trash-$uid``."""
    top = volume_top(path)
    return [home_trash(), os.path.join(top, ".Trash", str(os.getuid())),
            os.path.join(top, f".Trash-{os.getuid()}")]


def not_ours(trash_dir: str) -> str | None:
    """Why ``trash_dir`` is not a trash folder this user owns now, or None."""
    for d in (trash_dir, os.path.join(trash_dir, "files"), os.path.join(trash_dir, "info")):
        why = _unsafe(d)
        if why:
            return why
    parent = os.path.dirname(trash_dir)
    if os.path.basename(parent) == ".Trash":
        return _shared_unsafe(parent)
    return None


def plain_name(name: str) -> bool:
    """A trash entry's name is one plain file name (never a path that climbs out)."""
    return bool(name) and name not in (".", "..") and os.sep not in name and "\0" not in name \
        and (os.altsep is None or os.altsep not in name)


def info_path_value(path: str, top: str | None) -> str:
    """The ``Path=`` value: absolute for the home trash, relative to the volume top else
    (the path as it really is, its folders' symlinks resolved)."""
    p = os.path.relpath(real_path(path), top) if top else real_path(path)
    return quote(os.fsencode(p), safe="/")


def _info_text(path: str, top: str | None) -> bytes:
    return ("[Trash Info]\nPath=" + info_path_value(path, top) + "\nDeletionDate="
            + time.strftime("%Y-%m-%dT%H:%M:%S") + "\n").encode("ascii")


def _candidates(name: str):
    yield name
    stem, ext = os.path.splitext(name)
    if not stem:
        stem, ext = name, ""
    for n in range(2, 1_000_000):
        yield f"{stem}.{n}{ext}"


def reserve(path: str, home: bool = False) -> Entry:
    """Choose the trash entry for ``path`` and write its ``.trashinfo`` (O_EXCL: the name is
    ours). The file is not moved yet; ``move`` does that, ``release`` gives the name back.
    ``home``: in the user's own trash, whatever the volume (for ``copy``)."""
    if not FREEDESKTOP:
        return Entry(None, os.path.basename(path))
    trash_dir, top = trash_dir_for(path, home)
    data = _info_text(path, top)
    for name in _candidates(os.path.basename(path)):
        entry = Entry(trash_dir, name)
        if os.path.lexists(entry.file):
            continue
        try:
            fd = os.open(entry.info, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
        except FileExistsError:
            continue
        except OSError as e:
            raise TrashError(f"cannot write to the trash {trash_dir}: {e.strerror or e}") from None
        try:
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            _unlink(entry.info)
            raise TrashError(f"cannot write to the trash {trash_dir}: {e.strerror or e}") from None
        if os.path.lexists(entry.file):  # someone filled the name meanwhile
            _unlink(entry.info)
            continue
        return entry
    raise TrashError(f"no free name in the trash {trash_dir} for {path}")


def move(path: str, entry: Entry) -> None:
    """Move the file into its reserved entry (a rename on the same volume)."""
    if entry.trash_dir is None:
        from send2trash import send2trash

        try:
            send2trash(path)
        except OSError as e:
            raise TrashError(f"could not move {path} to the trash: {e}") from None
        return
    try:
        os.rename(path, entry.file)
    except OSError as e:
        raise TrashError(f"could not move {path} to the trash: {e.strerror or e}") from None


def release(entry: Entry) -> None:
    """Give a reserved name back (the file was not moved): its ``.trashinfo`` goes, never a
    file in ``files/``."""
    if entry.trash_dir is not None and not os.path.lexists(entry.file):
        _unlink(entry.info)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def recorded_path(entry: Entry) -> str | None:
    """The original path an entry's ``.trashinfo`` names (resolved against the volume top
    for a volume trash), or None when the info file is gone or unreadable."""
    try:
        fd = os.open(entry.info, os.O_RDONLY | _NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            text = f.read(65536).decode("ascii", "replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("Path="):
            p = os.fsdecode(unquote(line[5:], encoding="utf-8", errors="surrogateescape")
                            .encode("utf-8", "surrogateescape"))
            if os.path.isabs(p):
                return p
            top = _top_of(entry.folder)
            return os.path.normpath(os.path.join(top, p)) if top else None
    return None


def _top_of(trash_dir: str) -> str | None:
    """The volume top a volume trash belongs to (``TOP/.Trash-uid``, ``TOP/.Trash/uid``)."""
    base = os.path.basename(trash_dir)
    parent = os.path.dirname(trash_dir)
    if base.startswith(".Trash-"):
        return parent
    if os.path.basename(parent) == ".Trash":
        return os.path.dirname(parent)
    return None


def restore(entry: Entry, path: str) -> None:
    """Put ``entry``'s file back at ``path`` without ever replacing a file there (a hard link
    then unlink where the volume allows it, so a path taken meanwhile is never overwritten),
    then drop its ``.trashinfo``."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        os.link(entry.file, path, follow_symlinks=False)  # a symlink comes back as the link
    except FileExistsError:
        raise TrashError(f"a file is at {path} again") from None
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
            raise TrashError(f"cannot put {path} back: {e.strerror or e}") from None
        if os.path.lexists(path):  # no hard links here (FAT): check, then rename
            raise TrashError(f"a file is at {path} again") from None
        try:
            os.rename(entry.file, path)
        except OSError as e2:
            raise TrashError(f"cannot put {path} back: {e2.strerror or e2}") from None
    else:
        try:
            os.unlink(entry.file)
        except OSError as e:
            raise TrashError(f"put back {path}, but its trash entry stays: {e.strerror or e}"
                             ) from None
    _unlink(entry.info)


__all__ = ["Entry", "TrashError", "UnusableTrash", "FREEDESKTOP", "home_trash", "real_path",
           "volume_top", "trash_dir_for", "own_trash_dirs", "not_ours", "plain_name", "reserve",
           "move", "release", "recorded_path", "restore", "info_path_value"]
