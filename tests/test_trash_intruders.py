"""The trash against symlinks, other users and a tampered catalogue: symlinks trashed and
restored as links; folders reached through a symlink trash on the volume that really holds
them; trash folders that fail the freedesktop checks (a symlink, another user's, no sticky
bit) are never used and the file stays, with the reason; undo acts only on journal rows that
name a plain entry of the user's own trash, a path inside a registered folder and a content
hash, and the entry's own ``.trashinfo``. Real files, trash folders, catalogue and journal;
no model (the groups are built from the files' own facts)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

import dbutil
import faultkit
from faultkit import sha
from photofinder.dedup.findings import Group, Member
from photofinder.library import Library
from photofinder.platforms import trash as T

MOUNT = faultkit.mount_problem()
needs_mount = pytest.mark.skipif(MOUNT is not None, reason=f"a second volume: {MOUNT}")
needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="a folder owned by another user needs root (chown)")
OTHER_UID = 4242  # a uid no test user has: "another user" for ownership checks


@pytest.fixture
def xdg(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "xdg"
    monkeypatch.setenv("XDG_DATA_HOME", str(d))
    return d


@pytest.fixture
def volumes(tmp_path):
    """Mount small tmpfs volumes on demand: ``volumes("name")`` -> its mount point."""
    mounted = []

    def mount(name: str) -> Path:
        d = tmp_path / name
        d.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(d)], check=True)
        mounted.append(d)
        return d

    yield mount
    for d in reversed(mounted):
        subprocess.run(["umount", "-l", str(d)], capture_output=True)


def member(path, keep: bool = False) -> Member:
    st = os.stat(path)
    return Member(str(path), "exact", 1.0, [], 0, sha(path), size=st.st_size,
                  mtime_ns=st.st_mtime_ns)


def group(keep, *others) -> Group:
    return Group(str(keep), [member(keep)] + [member(o) for o in others])


def photo(path: Path, data: bytes = b"a photo's bytes " * 64) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def library(tmp_path, *folders) -> Library:
    lib = Library(tmp_path / "lib")
    for f in folders:
        lib.add_folder(f)
    return lib


# -- symlinks --------------------------------------------------------------------------------
def test_a_relative_symlink_is_trashed_and_restored_as_a_link(tmp_path, xdg):
    """A relative link whose target lies outside the folder, beside a copy of that target:
    it goes to the trash as the link and comes back as the link (lstat, never through it:
    from the trash folder the relative link dangles)."""
    target = photo(tmp_path / "outside" / "photo.jpg")
    folder = tmp_path / "photos"
    copy = folder / "copy.jpg"
    photo(copy)
    link = folder / "link.jpg"
    os.symlink("../outside/photo.jpg", link)
    with library(tmp_path, folder) as lib:
        rep = lib.trash([str(link)], [group(copy, link)])
        assert rep.trashed == [str(link)] and not rep.refused
        entry = T.Entry(str(xdg / "Trash"), "link.jpg")
        assert os.path.islink(entry.file) and os.readlink(entry.file) == "../outside/photo.jpg"
        back = lib.undo(reindex=False)
        assert back == [str(link)] and back.blocked == {}
    assert os.path.islink(link) and os.readlink(link) == "../outside/photo.jpg"
    assert sha(link) == sha(target) and not os.path.lexists(entry.file)


@needs_mount
def test_a_folder_added_through_a_symlink_trashes_on_the_volume_that_holds_it(tmp_path, xdg,
                                                                               volumes):
    """The folder is a symlink on volume A to photos on volume B: the copy goes to B's trash
    (a rename, no cross-device error) and nothing is made on A."""
    a, b = volumes("a"), volumes("b")
    keep = photo(b / "pics" / "keep.jpg")
    shutil.copy2(keep, b / "pics" / "copy.jpg")
    os.symlink(b / "pics", a / "pics")
    via = a / "pics"
    with library(tmp_path, via) as lib:
        rep = lib.trash([str(via / "copy.jpg")], [group(via / "keep.jpg", via / "copy.jpg")])
        assert rep.trashed == [str(via / "copy.jpg")], rep.refused
        entry = T.Entry(str(b / f".Trash-{os.getuid()}"), "copy.jpg")
        assert sha(entry.file) == sha(keep)
        assert "Path=pics/copy.jpg\n" in open(entry.info).read()  # relative to B's top
        assert sorted(os.listdir(a)) == ["pics"]  # no .Trash-UID on the link's volume
        assert lib.undo(reindex=False) == [str(via / "copy.jpg")]
    assert sha(b / "pics" / "copy.jpg") == sha(keep)


# -- trash folders that fail the freedesktop checks ------------------------------------------
def _one_copy(tmp_path, folder):
    keep = photo(folder / "keep.jpg")
    shutil.copy2(keep, folder / "copy.jpg")
    return group(keep, folder / "copy.jpg"), str(folder / "copy.jpg")


def test_a_home_trash_that_is_a_symlink_is_never_used(tmp_path, xdg):
    """~/.local/share/Trash pointing at someone else's folder: the copy stays, with the
    reason, and nothing is written there."""
    elsewhere = tmp_path / "someone-else"
    for sub in ("files", "info"):
        (elsewhere / sub).mkdir(parents=True)
    xdg.mkdir()
    os.symlink(elsewhere, xdg / "Trash")
    g, copy = _one_copy(tmp_path, tmp_path / "photos")
    with library(tmp_path, tmp_path / "photos") as lib:
        rep = lib.trash([copy], [g])
    assert rep.trashed == [] and "symbolic link" in rep.refused[copy]
    assert os.path.exists(copy)
    assert os.listdir(elsewhere / "files") == [] and os.listdir(elsewhere / "info") == []


def test_a_home_trash_others_may_write_to_is_never_used(tmp_path, xdg):
    (xdg / "Trash").mkdir(parents=True)
    os.chmod(xdg / "Trash", 0o777)
    g, copy = _one_copy(tmp_path, tmp_path / "photos")
    with library(tmp_path, tmp_path / "photos") as lib:
        rep = lib.trash([copy], [g])
    assert rep.trashed == [] and "others may write" in rep.refused[copy]
    assert os.path.exists(copy) and not (xdg / "Trash" / "files").exists()


@needs_mount
@needs_root
def test_another_users_trash_folder_on_a_drive_is_never_used(tmp_path, xdg, volumes):
    """A .Trash-$uid made by another user (mode 777) would let them delete the photos: it is
    not used; the copy stays with the reason."""
    vol = volumes("vol")
    planted = vol / f".Trash-{os.getuid()}"
    planted.mkdir(mode=0o777)
    os.chmod(planted, 0o777)
    os.chown(planted, OTHER_UID, OTHER_UID)
    g, copy = _one_copy(tmp_path, vol / "photos")
    with library(tmp_path, vol / "photos") as lib:
        rep = lib.trash([copy], [g])
    assert rep.trashed == [] and "belongs to another user" in rep.refused[copy]
    assert "the file is kept" in rep.refused[copy]
    assert os.path.exists(copy) and os.listdir(planted) == []


@needs_mount
def test_a_planted_symlink_in_the_shared_trash_is_not_followed(tmp_path, xdg, volumes):
    """``.Trash/$uid`` is a symlink someone planted in the sticky ``.Trash``: the spec's
    checks fail, so the user's own ``.Trash-$uid`` is used instead."""
    vol = volumes("vol")
    (vol / ".Trash").mkdir()
    os.chmod(vol / ".Trash", 0o777 | stat.S_ISVTX)
    trap = vol / "trap"
    trap.mkdir()
    os.symlink(trap, vol / ".Trash" / str(os.getuid()))
    g, copy = _one_copy(tmp_path, vol / "photos")
    with library(tmp_path, vol / "photos") as lib:
        rep = lib.trash([copy], [g])
        assert rep.trashed == [copy]
        assert os.listdir(trap) == []
        own = T.Entry(str(vol / f".Trash-{os.getuid()}"), "copy.jpg")
        assert sha(own.file) == g.members[0].hash
        assert lib.undo(reindex=False) == [copy]


@needs_mount
def test_a_shared_trash_without_the_sticky_bit_is_not_used(tmp_path, xdg, volumes):
    vol = volumes("vol")
    (vol / ".Trash").mkdir()
    os.chmod(vol / ".Trash", 0o777)
    g, copy = _one_copy(tmp_path, vol / "photos")
    with library(tmp_path, vol / "photos") as lib:
        assert lib.trash([copy], [g]).trashed == [copy]
    assert os.listdir(vol / ".Trash") == []
    assert os.path.exists(vol / f".Trash-{os.getuid()}" / "files" / "copy.jpg")


# -- undo trusts the user's own trash, never the catalogue alone ------------------------------
@pytest.fixture
def trashed(tmp_path, xdg):
    """A library with one copy in the trash: (library, the copy's path, its entry, content
    hash). The caller edits the catalogue or the trash as an intruder would."""
    g, copy = _one_copy(tmp_path, tmp_path / "photos")
    lib = library(tmp_path, tmp_path / "photos")
    rep = lib.trash([copy], [g])
    assert rep.trashed == [copy]
    (row,) = dbutil.rows(lib, "SELECT * FROM journal")
    yield lib, copy, T.Entry(row["trash_dir"], row["trash_name"]), row["hash"]
    lib.close()


def state(lib) -> str:
    return dbutil.rows(lib, "SELECT state FROM journal")[0]["state"]


def test_undo_never_writes_outside_the_registered_folders(trashed, tmp_path):
    lib, copy, entry, digest = trashed
    outside = tmp_path / "elsewhere" / "copy.jpg"
    dbutil.execute(lib, "UPDATE journal SET path=?", [str(outside)])
    back = lib.undo(reindex=False)
    assert back == [] and "not inside a folder" in back.blocked[str(outside)]
    assert not outside.parent.exists() and sha(entry.file) == digest
    assert state(lib) == "moved"


def test_undo_never_moves_a_file_named_by_a_climbing_trash_name(trashed, tmp_path):
    """A trash name with ``..`` that climbs out to any file of the user, and no hash to
    check: refused, the file stays where it is, nothing appears in the folder."""
    lib, copy, entry, digest = trashed
    victim = photo(tmp_path / "private" / "letter.txt", b"the user's private letter")
    climb = os.path.relpath(victim, os.path.join(entry.trash_dir, "files"))
    dbutil.execute(lib, "UPDATE journal SET trash_name=?, hash='', size=NULL, path=?",
                   [climb, str(tmp_path / "photos" / "letter.txt")])
    back = lib.undo(reindex=False)
    assert back == [] and "no plain name" in next(iter(back.blocked.values()))
    assert victim.read_bytes() == b"the user's private letter"
    assert not (tmp_path / "photos" / "letter.txt").exists()


def test_undo_without_a_hash_is_refused(trashed):
    lib, copy, entry, digest = trashed
    dbutil.execute(lib, "UPDATE journal SET hash=''")
    back = lib.undo(reindex=False)
    assert back == [] and "no content hash" in back.blocked[copy]
    assert not os.path.exists(copy) and os.path.exists(entry.file)


def test_undo_only_from_a_trash_of_the_users_own(trashed, tmp_path):
    """The row names a folder dressed up as a trash: never taken from."""
    lib, copy, entry, digest = trashed
    fake = tmp_path / "fake-trash"
    (fake / "files").mkdir(parents=True)
    (fake / "info").mkdir()
    shutil.copy2(entry.file, fake / "files" / "copy.jpg")
    shutil.copy2(entry.info, fake / "info" / "copy.jpg.trashinfo")
    dbutil.execute(lib, "UPDATE journal SET trash_dir=?", [str(fake)])
    back = lib.undo(reindex=False)
    assert back == [] and "not one of your trash folders" in back.blocked[copy]
    assert os.path.exists(fake / "files" / "copy.jpg") and not os.path.exists(copy)


def test_a_missing_trashinfo_is_refused_and_the_row_kept(trashed):
    lib, copy, entry, digest = trashed
    saved = open(entry.info, "rb").read()
    os.unlink(entry.info)
    back = lib.undo(reindex=False)
    assert back == [] and ".trashinfo" in back.blocked[copy]
    assert state(lib) == "moved"
    open(entry.info, "wb").write(saved)
    assert lib.undo(reindex=False) == [copy] and sha(copy) == digest


def test_a_tampered_trashinfo_is_refused_but_never_marks_the_row_gone(trashed, tmp_path):
    """The ``.trashinfo`` names another path though the file in the trash still matches: undo
    refuses with the reason and keeps the row, so once the ``.trashinfo`` is right again the
    photo comes back."""
    lib, copy, entry, digest = trashed
    saved = open(entry.info, "rb").read()
    open(entry.info, "wb").write(saved.replace(b"copy.jpg", b"other.jpg"))
    back = lib.undo(reindex=False)
    assert back == [] and "says it came from" in back.blocked[copy]
    assert state(lib) == "moved" and not os.path.exists(copy)
    open(entry.info, "wb").write(saved)
    assert lib.undo(reindex=False) == [copy] and sha(copy) == digest


def test_a_folder_removed_since_the_batch_still_takes_its_photos_back(trashed, tmp_path):
    lib, copy, entry, digest = trashed
    lib.remove_folder(tmp_path / "photos")
    back = lib.undo(reindex=False)
    assert back == [copy] and sha(copy) == digest


def test_a_folder_registered_after_the_batch_does_not_count(trashed, tmp_path):
    """The row is edited to put the photo in a folder the library registered only later:
    not a folder of the batch, refused."""
    lib, copy, entry, digest = trashed
    later = tmp_path / "later"
    later.mkdir()
    lib.add_folder(later)
    dbutil.execute(lib, "UPDATE journal SET path=?", [str(later / "copy.jpg")])
    back = lib.undo(reindex=False)
    assert back == [] and "not inside a folder" in back.blocked[str(later / "copy.jpg")]
    assert not (later / "copy.jpg").exists()


def test_a_symlink_planted_in_a_registered_folder_does_not_lead_out(trashed, tmp_path):
    """The row's path goes through a symlink inside the folder to a place outside it:
    compared with symlinks resolved, it is outside; refused."""
    lib, copy, entry, digest = trashed
    outside = tmp_path / "private"
    outside.mkdir()
    os.symlink(outside, tmp_path / "photos" / "door")
    dbutil.execute(lib, "UPDATE journal SET path=?", [str(tmp_path / "photos" / "door" / "x.jpg")])
    back = lib.undo(reindex=False)
    assert back == [] and os.listdir(outside) == []


def test_a_keeper_in_a_folder_that_cannot_be_read_counts_as_offline(tmp_path, xdg):
    """A copy to keep under an unreadable subfolder is offline like an unplugged drive's:
    nothing in its group is trashed until it reads again."""
    g, copy = _one_copy(tmp_path, tmp_path / "photos")
    with library(tmp_path, tmp_path / "photos") as lib:
        (folder,) = lib.catalog.folders.all()
        lib.catalog.folders.set_unreadable(folder.id, {str(tmp_path / "photos"): "I/O error"})
        rep = lib.trash([copy], [g])
        assert rep.trashed == [] and "offline" in rep.refused[copy]
        lib.catalog.folders.set_unreadable(folder.id, {})
        assert lib.trash([copy], [g]).trashed == [copy]
