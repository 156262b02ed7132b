"""Opening and writing a library when things are wrong: one clear line and exit 1, never
"unexpected error", never a silently recreated empty catalogue; every write under the
writer lock; a read-only library can still say its status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

import faultkit
from photofinder.cli import main
from photofinder.library import Library, LibraryError
from samples import sample_images

MOUNT = faultkit.mount_problem()


@pytest.fixture(autouse=True)
def private_trash(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # never the real trash


@pytest.fixture
def small_lib(tmp_path, model):
    photos = tmp_path / "photos"
    photos.mkdir()
    img = sample_images()["coffee"]
    img.save(photos / "coffee.jpg", quality=90)
    img.save(photos / "coffee2.jpg", quality=90)
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(photos)
        lib.update()
    return tmp_path / "lib", photos


def run(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unexpected error" not in err, err
    return code, err


def test_a_zero_byte_catalogue_is_refused_never_recreated(small_lib, capsys):
    lib, _ = small_lib
    cat = lib / "catalog.sqlite"
    cat.write_bytes(b"")
    old = time.time() - 3600
    os.utime(cat, (old, old))
    code, err = run(capsys, "--library", str(lib), "status")
    assert code == 1 and "is empty (0 bytes)" in err and err.count("\n") == 1
    assert cat.stat().st_size == 0  # left as it was, for the user to restore


def test_a_damaged_catalogue_page(small_lib, capsys):
    lib, _ = small_lib
    cat = lib / "catalog.sqlite"
    data = bytearray(cat.read_bytes())
    for page in range(1, len(data) // 4096):
        data[page * 4096:page * 4096 + 100] = b"\xff" * 100
    cat.write_bytes(bytes(data))
    code, err = run(capsys, "--library", str(lib), "status")
    assert code == 1 and "catalogue" in err and err.count("\n") == 1


def test_a_library_that_is_a_file(tmp_path, capsys):
    f = tmp_path / "not-a-folder"
    f.write_text("x")
    code, err = run(capsys, "--library", str(f), "status")
    assert code == 1 and "is a file, not a folder" in err


def test_writes_take_the_writer_lock(small_lib, capsys):
    lib, photos = small_lib
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from filelock import FileLock; "
         "l = FileLock(sys.argv[1], thread_local=False); l.acquire(); print('held', flush=True); "
         "time.sleep(60)", str(lib / "write.lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        base = ["--library", str(lib), "duplicates"]
        for extra in (["--keep", str(photos / "coffee.jpg")],
                      ["--not-duplicates", str(photos / "coffee.jpg"), str(photos / "coffee2.jpg")],
                      ["--prefer-folder", str(photos)], ["--trash", "--yes"]):
            code, err = run(capsys, *base, *extra)
            assert code == 1 and "being updated by another photofinder" in err, extra
        code, err = run(capsys, "--library", str(lib), "undo")
        assert code == 1 and "being updated" in err
        assert os.path.exists(photos / "coffee2.jpg")
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.skipif(MOUNT is not None and os.geteuid() == 0,
                    reason=f"root ignores folder permissions and {MOUNT}")
def test_a_read_only_library_can_say_its_status(small_lib, capsys, tmp_path):
    lib, photos = small_lib
    if MOUNT is None:  # a read-only drive: a tmpfs remounted read-only
        drive = tmp_path / "drive"
        drive.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(drive)], check=True)
        subprocess.run(["cp", "-a", str(lib), str(drive / "lib")], check=True)
        subprocess.run(["mount", "-o", "remount,ro", str(drive)], check=True)
        lib = drive / "lib"
    else:
        os.chmod(lib, 0o555)
    try:
        code = main(["--library", str(lib), "status", "--json"])
        out = capsys.readouterr()
        assert code == 0, out.err
        assert json.loads(out.out)["photos"]["indexed"] == 2
        with Library(lib) as ro:
            assert ro.read_only and ro.status().photos.indexed == 2
            with pytest.raises(LibraryError, match="read-only"):
                ro.scan()
    finally:
        if MOUNT is None:
            subprocess.run(["umount", str(drive)], check=True)
        else:
            os.chmod(lib, 0o755)


@pytest.mark.skipif(MOUNT is not None, reason=f"a small filesystem: {MOUNT}")
def test_a_full_disk_under_the_library(tmp_path, capsys, model):
    drive = tmp_path / "drive"
    drive.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(drive)], check=True)
    try:
        with open(drive / "filler", "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        photos = tmp_path / "photos"
        photos.mkdir()
        sample_images()["coffee"].save(photos / "coffee.jpg")
        code, err = run(capsys, "--library", str(drive / "lib"), "add", str(photos))
        assert code == 1 and ("full" in err or "No space" in err) and err.count("\n") == 1, err
    finally:
        subprocess.run(["umount", "-l", str(drive)], check=True)
