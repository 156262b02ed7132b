"""A drive unplugged while its mount point stays, another drive mounted there, a folder
suddenly empty: the folder goes offline, its photos are kept and stay searchable; only
``remove FOLDER`` forgets them. Ordinary deletions and moves between folders still count."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

import faultkit
from photofinder.cli import main
from photofinder.library import Library
from samples import sample_images

MOUNT = faultkit.mount_problem()


@pytest.fixture(autouse=True)
def private_trash(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # never the real trash
NAMES = ("astronaut", "coffee", "chelsea")


def fill(folder, names=NAMES):
    imgs = sample_images()
    for n in names:
        imgs[n].save(os.path.join(folder, f"{n}.jpg"), quality=88)


def online(lib) -> dict[str, tuple[bool, int]]:
    return {f.path: (f.online, f.photos) for f in lib.folders()}


@pytest.fixture
def two_folders(tmp_path, model):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    fill(a)
    lib = Library(tmp_path / "lib")
    lib.add_folder(a)
    lib.add_folder(b)
    lib.update()
    yield lib, a, b
    lib.close()


def test_a_suddenly_empty_folder_is_offline_and_kept(two_folders, capsys):
    lib, a, b = two_folders
    hidden = a.parent / "hidden"
    shutil.move(str(a), str(hidden))
    a.mkdir()  # the empty mount point of an unplugged drive looks just like this
    report, _ = lib.update()
    assert report.offline == [str(a)] and report.deleted == 0
    assert online(lib)[str(a)] == (False, 3)
    assert [m.path for m in lib.similar(hidden / "coffee.jpg", top=1)] == [str(a / "coffee.jpg")]
    lib.close()
    assert main(["--library", str(lib.path), "status"]) == 0
    assert "3 photos, OFFLINE" in capsys.readouterr().out
    with Library(lib.path) as again:  # the drive comes back: nothing indexed again
        a.rmdir()
        shutil.move(str(hidden), str(a))
        report, progress = again.update()
        assert report.offline == [] and report.new == 0 and report.deleted == 0
        assert online(again)[str(a)] == (True, 3) and progress.done == 0
        a_path = str(a)
    with Library(lib.path) as again:  # gone for good: the user says so
        shutil.rmtree(a)
        a.mkdir()
        again.scan()
        assert online(again)[a_path] == (False, 3)
        assert again.remove_folder(a) == 3
        assert a_path not in online(again)


def test_deleting_some_photos_and_moving_all_to_another_folder_still_count(two_folders):
    lib, a, b = two_folders
    os.unlink(a / "astronaut.jpg")
    report, _ = lib.update()
    assert report.deleted == 1 and report.offline == []
    for n in ("coffee", "chelsea"):
        shutil.move(str(a / f"{n}.jpg"), str(b / f"{n}.jpg"))
    report, _ = lib.update()
    assert report.offline == [] and report.moved == 2 and report.new == 0
    assert online(lib) == {str(a): (True, 0), str(b): (True, 2)}


@pytest.mark.skipif(MOUNT is not None, reason=f"a drive to unplug: {MOUNT}")
def test_unplugged_drive_and_another_drive_at_its_mount_point(tmp_path, model):
    drive, bystander = tmp_path / "drive", tmp_path / "bystander"
    drive.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(drive)], check=True)
    try:
        fill(drive)
        with Library(tmp_path / "lib") as lib:
            lib.add_folder(drive)
            lib.update()
            subprocess.run(["umount", str(drive)], check=True)  # unplugged
            report, _ = lib.update()
            assert report.offline == [str(drive)] and online(lib)[str(drive)] == (False, 3)
            # another drive mounted at the same place, with other photos (a device number
            # of its own: the freed one is held by a bystander mount)
            bystander.mkdir()
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(bystander)],
                           check=True)
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(drive)],
                           check=True)
            fill(drive, ("rocket",))
            report, _ = lib.update()
            assert report.offline == [str(drive)] and report.deleted == 0
            assert online(lib)[str(drive)] == (False, 3)
    finally:
        for d in (drive, bystander):
            subprocess.run(["umount", "-l", str(d)], capture_output=True)
