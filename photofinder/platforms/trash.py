"""The system trash, written by hand on freedesktop systems so we KNOW where each file went.

Freedesktop trash spec (Linux, BSD): a file on the home volume goes to
``$XDG_DATA_HOME/Trash`` (default ``~/.local/share/Trash``); a file on another volume goes to
that volume's top-level ``.Trash/$uid`` (only when ``.Trash`` is a real folder, not a symlink,
with the sticky bit) or else ``.Trash-$uid``. Each entry is ``files/NAME`` plus
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


class TrashError(PhotofinderError):
    """A file could not be moved to (or back from) the trash; one line for the user."""


@dataclass(frozen=True)
class Entry:
    """One trash entry: ``trash_dir/files/name`` and ``trash_dir/info/name.trashinfo``.
    ``trash_dir`` is None where the system keeps the trash (macOS, Windows)."""
    trash_dir: str | None
    name: str

    @property
    def file(self) -> str:
        return os.path.join(self.trash_dir, "files", self.name)

    @property
    def info(self) -> str:
        return os.path.join(self.trash_dir, "info", self.name + ".trashinfo")


def home_trash() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(os.path.abspath(base), "Trash")


def volume_top(path: str) -> str:
    """The mount point of the volume holding ``path``."""
    p = os.path.dirname(os.path.abspath(path))
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


def _make_dirs(trash_dir: str) -> None:
    for sub in ("files", "info"):
        os.makedirs(os.path.join(trash_dir, sub), mode=0o700, exist_ok=True)


def trash_dir_for(path: str) -> tuple[str, str | None]:
    """(trash folder, volume top or None for the home trash) for a file, created if needed.
    Raises TrashError when the file's volume has no usable trash (never copied elsewhere)."""
    home = home_trash()
    st = os.lstat(path)
    if st.st_dev == _device(home):
        _make_dirs(home)
        return home, None
    top = volume_top(path)
    uid = os.getuid()
    shared = os.path.join(top, ".Trash")
    try:
        s = os.lstat(shared)
        if stat.S_ISDIR(s.st_mode) and not stat.S_ISLNK(s.st_mode) and s.st_mode & stat.S_ISVTX:
            mine = os.path.join(shared, str(uid))
            try:
                _make_dirs(mine)
                return mine, top
            except OSError:
                pass
    except OSError:
        pass
    own = os.path.join(top, f".Trash-{uid}")
    try:
        if os.path.islink(own):
            raise TrashError(f"{own} is a symbolic link; not trashing into it")
        if not os.path.isdir(own):
            os.mkdir(own, 0o700)
        _make_dirs(own)
    except OSError as e:
        raise TrashError(f"no trash folder can be made on the drive of {path} ({top}): "
                         f"{e.strerror or e}") from None
    return own, top


def info_path_value(path: str, top: str | None) -> str:
    """The ``Path=`` value: absolute for the home trash, relative to the volume top else."""
    p = os.path.relpath(path, top) if top else os.path.abspath(path)
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


def reserve(path: str) -> Entry:
    """Choose the trash entry for ``path`` and write its ``.trashinfo`` (O_EXCL: the name is
    ours). The file is not moved yet; ``move`` does that, ``release`` gives the name back."""
    if not FREEDESKTOP:
        return Entry(None, os.path.basename(path))
    trash_dir, top = trash_dir_for(path)
    data = _info_text(path, top)
    for name in _candidates(os.path.basename(path)):
        entry = Entry(trash_dir, name)
        if os.path.lexists(entry.file):
            continue
        try:
            fd = os.open(entry.info, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
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
        with open(entry.info, "rb") as f:
            text = f.read(65536).decode("ascii", "replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("Path="):
            p = os.fsdecode(unquote(line[5:], encoding="utf-8", errors="surrogateescape")
                            .encode("utf-8", "surrogateescape"))
            if os.path.isabs(p):
                return p
            top = _top_of(entry.trash_dir)
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
        os.link(entry.file, path)
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


__all__ = ["Entry", "TrashError", "FREEDESKTOP", "home_trash", "volume_top", "trash_dir_for",
           "reserve", "move", "release", "recorded_path", "restore", "info_path_value"]
