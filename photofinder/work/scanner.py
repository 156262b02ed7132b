"""Walk the registered folders and diff them against the catalogue.

A rescan of an unchanged library only stats files. New files become pending photos; files
whose size or mtime changed are embedded again; a file that vanished from one path and
appeared at another (same inode, or same size and content hash) is a move and keeps its id,
embedding and decisions; vanished files leave the catalogue. A folder whose drive is gone
(the folder is not there; or it had photos and none is found while it is empty of photos or
on another device: an empty mount point) is marked offline and its photos are kept and stay
searchable; ``remove FOLDER`` forgets them.

A folder that cannot be read (no permission, an I/O error) is the same: a problem shown to
the user (``report.unreadable``, kept in the catalogue until it reads again), and the photos
known under it stay as they are, offline, never counted as removed. A registered folder
that cannot be read at all is marked offline.

A symlink named like a photo that leads nowhere (its target gone, a loop) is bad input like a
broken file: a failed photo with its one line (``report.broken``, the catalogue's errors),
never skipped silently. A photo known at that path keeps its id and decisions (its vector
goes, the file cannot be opened); once the link resolves again it is indexed as usual.
"""

from __future__ import annotations

import errno
import os
import stat as statmod
import time
from dataclasses import dataclass, field
from typing import Callable

from photofinder.pixels import imaging
from photofinder.store.catalog import Catalog
from photofinder.store.records import FAILED, Folder, Photo

SKIP_DIRS = frozenset({"@eadir", "#recycle", "$recycle.bin", "system volume information",
                       "lost+found", "__macosx", ".thumbnails", ".trash", ".cache"})


def skip_dir(name: str) -> bool:
    low = name.lower()
    return low.startswith(".") or low in SKIP_DIRS or low.startswith(".trash")


@dataclass
class FileInfo:
    size: int
    mtime_ns: int
    dev: int
    ino: int


@dataclass
class ScanReport:
    new: int = 0
    changed: int = 0
    moved: int = 0
    deleted: int = 0
    unchanged: int = 0
    offline: list[str] = field(default_factory=list)
    unsettled: int = 0  # files modified too recently (still being written): left for later
    removed_labels: list[int] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    # folders that could not be read: (path, why, photos kept under it)
    unreadable: list[tuple[str, str, int]] = field(default_factory=list)
    # symlinks named like photos that lead nowhere: (path, why), each a failed photo
    broken: list[tuple[str, str]] = field(default_factory=list)

    def unreadable_lines(self) -> list[str]:
        """One line for the user per folder that could not be read."""
        return [f"{path}: {unreadable_message(why, kept)}" for path, why, kept in self.unreadable]

    def problem_lines(self) -> list[str]:
        """One line for the user per folder that could not be read and per broken link."""
        return self.unreadable_lines() + [f"{path}: {why}" for path, why in self.broken]


def unreadable_message(why: str, kept: int) -> str:
    """What a folder that cannot be read means for its photos, in one line."""
    if kept:
        return (f"folder cannot be read ({why}); its {kept} photo{'s' if kept != 1 else ''} "
                "are kept, offline, until it can be read")
    return f"folder cannot be read ({why}); its photos are left out until it can be read"


def broken_link_message(path: str, error: OSError) -> str:
    """Why the symlink at ``path`` gives no photo, in one line (what it points to)."""
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    if error.errno == errno.ENOENT:
        return f"broken symbolic link: it points to {target}, which is not there"
    if error.errno == errno.ELOOP:
        return f"symbolic link loop: it points to {target}, which leads back to itself"
    return f"symbolic link cannot be followed ({error.strerror or error}): it points to {target}"


def walk(root: str, problems: list | None = None, found: dict[str, FileInfo] | None = None,
         owners: dict[tuple[int, int], str] | None = None,
         known: set[str] | frozenset = frozenset(),
         broken: dict[str, tuple[str, FileInfo]] | None = None) -> dict[str, FileInfo]:
    """Every candidate picture under ``root``: path -> stat facts. Symlinked folders are not
    followed (no loops). A file seen twice (hard link, symlink; across several walks too when
    they share ``found`` and ``owners``) is kept once, under a path the catalogue already
    ``known`` if it has one, so a second name for a file is never mistaken for a move.
    A symlink named like a picture that leads nowhere (dangling, a loop) goes into ``broken``
    (path -> (why, the link's own stat facts)) when it is given."""
    found = {} if found is None else found
    owners = {} if owners is None else owners
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            if problems is not None:
                problems.append((folder, e.strerror or str(e)))
            continue
        subdirs = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not skip_dir(entry.name):
                        subdirs.append(entry.path)
                    continue
                if not imaging.is_candidate(entry.name):
                    continue
                st = entry.stat(follow_symlinks=True)
            except OSError as e:  # a dangling symlink, a link loop, or a file gone meanwhile
                if broken is not None:
                    _note_broken(entry, e, broken)
                continue
            if not statmod.S_ISREG(st.st_mode):
                continue
            if imaging.needs_peek(entry.name) and not imaging.peek_is_picture(entry.path):
                continue  # a real SVG drawing is not a photo; a JPEG named .svg is kept
            key = (st.st_dev, st.st_ino)
            owner = owners.get(key)
            if owner is not None:
                if owner in known or entry.path not in known:
                    continue
                del found[owner]  # the catalogue knows this file by its other name
            owners[key] = entry.path
            found[entry.path] = FileInfo(st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)
        stack.extend(reversed(subdirs))
    return found


def _note_broken(entry: os.DirEntry, error: OSError, broken: dict) -> None:
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return  # gone while listing: nothing there
    if statmod.S_ISLNK(st.st_mode):
        broken[entry.path] = (broken_link_message(entry.path, error),
                              FileInfo(st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino))


def _under(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def _hash_file(path: str) -> str | None:
    try:
        return imaging.content_hash(imaging.read_bytes(path))
    except imaging.ImageError:
        return None


def _gone_offline(folder: Folder, rows: list[Photo], mine: list[str], found: dict,
                  seen_files: set) -> bool:
    """A folder whose drive is gone though its path is there: it had photos, none of them is
    found (nor moved elsewhere in the library), and it is now empty of photos (an empty mount
    point, a drive not mounted yet, a folder emptied at once) or on another device (another
    drive mounted there). Its photos are kept; only ``remove FOLDER`` forgets them."""
    if not rows or any(r.path in found or (r.dev, r.ino) in seen_files for r in rows):
        return False  # still there, or moved to another folder of the library
    if not mine:
        return True
    try:
        device = os.stat(folder.path).st_dev
    except OSError:
        return True
    devices = {r.dev for r in rows if r.dev is not None}
    return bool(devices) and device not in devices


def scan(catalog: Catalog, folders: list[Folder] | None = None,
         progress: Callable[[str], None] | None = None, settle: float = 0.0) -> ScanReport:
    """Bring the catalogue up to date with the disk for ``folders`` (all by default).

    With ``settle`` > 0, files modified less than ``settle`` seconds ago are left alone (a
    file being copied in is not read half-done); ``report.unsettled`` counts them."""
    report = ScanReport()
    young = time.time_ns() - int(settle * 1e9) if settle > 0 else None
    folders = catalog.folders.all() if folders is None else folders
    on_disk: dict[str, tuple[int, FileInfo]] = {}
    known: dict[str, Photo] = {}
    known_young: set[str] = set()
    owners: dict[tuple[int, int], str] = {}
    found: dict[str, FileInfo] = {}
    folder_of: dict[str, int] = {}
    online = []
    for folder in folders:
        if os.path.isdir(folder.path):
            online.append(folder)
            for row in catalog.photos.in_folder(folder.id):
                known[row.path] = row
        else:
            catalog.folders.set_online(folder.id, online=False)
            report.offline.append(folder.path)
    known_paths = set(known)
    mine: dict[int, list[str]] = {}
    unreadable: dict[int, dict[str, str]] = {}
    broken: dict[str, tuple[str, FileInfo]] = {}
    broken_in: dict[str, int] = {}
    for folder in online:
        if progress:
            progress(f"scanning {folder.path}")
        problems: list[tuple[str, str]] = []
        walk(folder.path, problems, found, owners, known_paths, broken)
        for p in broken:
            broken_in.setdefault(p, folder.id)
        report.problems += problems
        unreadable[folder.id] = dict(problems)
        mine[folder.id] = [p for p in found if folder_of.setdefault(p, folder.id) == folder.id]
    # what lies under a folder that could not be read stays as it is (offline), never "gone"
    blind = [p for places in unreadable.values() for p in places]
    kept = {p for p in known if p not in found and any(_under(p, b) for b in blind)}
    for folder in online:
        for place, why in unreadable[folder.id].items():
            report.unreadable.append((place, why, sum(_under(p, place) for p in kept)))
        catalog.folders.set_unreadable(folder.id, unreadable[folder.id])
    for folder in [f for f in online if f.path in unreadable[f.id]]:
        online.remove(folder)  # not readable at all: offline, like an unplugged drive
        catalog.folders.set_online(folder.id, online=False)
        report.offline.append(folder.path)
    known = {p: r for p, r in known.items() if p not in kept}
    seen_files = {(i.dev, i.ino) for i in found.values()}
    for folder in list(online):
        rows = [r for r in known.values() if r.folder_id == folder.id]
        if _gone_offline(folder, rows, mine[folder.id], found, seen_files):
            online.remove(folder)
            catalog.folders.set_online(folder.id, online=False)
            report.offline.append(folder.path)
            for p in mine[folder.id]:
                del found[p]
            known = {p: r for p, r in known.items() if r.folder_id != folder.id}
    scanned_ids = [f.id for f in online]
    broken = {p: b for p, b in broken.items() if broken_in[p] in scanned_ids}
    for p, info in found.items():
        if young is not None and info.mtime_ns > young:
            report.unsettled += 1
            known_young.add(p)
            continue
        on_disk[p] = (folder_of[p], info)
    # A path inside two registered folders (nested folders) belongs to the one that has it.
    inodes_known = {(r.dev, r.ino): p for p, r in known.items()}
    new_paths = [p for p in on_disk if p not in known]
    gone = {p: r for p, r in known.items()
            if p not in on_disk and p not in known_young and p not in broken}

    with catalog.transaction():
        for p, row in known.items():
            if p in on_disk and p not in known_young:
                _, info = on_disk[p]
                if info.size == row.size and info.mtime_ns == row.mtime_ns:
                    report.unchanged += 1
                else:
                    catalog.photos.mark_changed(row.id, info.size, info.mtime_ns, info.dev, info.ino)
                    report.changed += 1
        # moves: same inode first, then same size and content hash
        by_size: dict[int, list[str]] = {}
        for p, r in gone.items():
            by_size.setdefault(r.size, []).append(p)
        remaining_new = []
        for p in new_paths:
            folder_id, info = on_disk[p]
            old = inodes_known.get((info.dev, info.ino))
            if old in gone and gone[old].size == info.size:
                match = old
            else:
                match = None
                candidates = [q for q in by_size.get(info.size, []) if q in gone and gone[q].hash]
                if candidates:
                    h = _hash_file(p)
                    match = next((q for q in candidates if gone[q].hash == h), None)
            if match:
                row = gone.pop(match)
                catalog.photos.move(row.id, folder_id, p, info.mtime_ns, info.dev, info.ino)
                report.moved += 1
            else:
                remaining_new.append(p)
        for p in remaining_new:
            folder_id, info = on_disk[p]
            if catalog.photos.by_path(p) is None:
                catalog.photos.insert(folder_id, p, info.size, info.mtime_ns, info.dev, info.ino)
                report.new += 1
        for p, (why, info) in broken.items():  # a failed photo, like a broken file
            report.broken.append((p, why))
            row = known.get(p) or catalog.photos.by_path(p)
            if row is None:
                row_id = catalog.photos.insert(broken_in[p], p, info.size, info.mtime_ns,
                                               info.dev, info.ino)
                catalog.photos.record_failure(row_id, why)
            elif row.status != FAILED or row.error != why:
                # the link's own size and time: once it resolves, the file reads as changed
                label = catalog.photos.record_failure(
                    row.id, why, {"size": info.size, "mtime_ns": info.mtime_ns})
                if label is not None:
                    report.removed_labels.append(label)
        if gone:
            report.removed_labels += catalog.photos.delete(r.id for r in gone.values())
            report.deleted = len(gone)
        for fid in scanned_ids:
            catalog.folders.set_online(fid, online=True, scanned=True)
    return report
