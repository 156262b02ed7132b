"""A folder that cannot be read is a problem shown to the user, and the photos known in it
stay (offline), exactly as with an unplugged drive: at ``add`` and later at ``scan``, a
subfolder or the whole folder. The CLI runs in a child that meets file permissions as any
user does (as root it drops the capabilities that read past them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import dbutil
import faultkit
from samples import sample_images


@pytest.fixture
def world(tmp_path, model):
    photos = tmp_path / "photos"
    imgs = sample_images()
    for folder, names in (("open", ["coffee"]), ("private", ["astronaut", "chelsea", "rocket"])):
        (photos / folder).mkdir(parents=True)
        for n in names:
            imgs[n].convert("RGB").save(photos / folder / f"{n}.jpg", quality=90)
    env = {**os.environ, "PHOTOFINDER_DATA": str(model.parents[1]),
           "PHOTOFINDER_LIBRARY": str(tmp_path / "lib"), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    yield photos, env, tmp_path / "lib"
    for d in (photos, photos / "private"):
        os.chmod(d, 0o755)  # pytest can clean up


def cli(env, *args) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "photofinder", *args], env=env, text=True,
                       capture_output=True, timeout=600, preexec_fn=faultkit.permissions_hold())
    assert "Traceback" not in r.stderr, r.stderr
    return r


def status(env) -> dict:
    r = cli(env, "status", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def folder_errors(st) -> dict:
    return {e["path"]: e["error"] for e in st["errors"] if e.get("kind") == "folder"}


def test_an_unreadable_subfolder_at_add_is_said_and_shown(world):
    photos, env, lib = world
    private = photos / "private"
    os.chmod(private, 0)
    r = cli(env, "add", str(photos))
    assert r.returncode == 0, r.stderr
    assert f"{private}: folder cannot be read (Permission denied)" in r.stderr
    st = status(env)
    assert st["photos"]["indexed"] == 1
    assert "cannot be read (Permission denied)" in folder_errors(st)[str(private)]
    os.chmod(private, 0o755)  # readable again: picked up, and the problem goes
    assert cli(env, "scan").returncode == 0
    st = status(env)
    assert st["photos"]["indexed"] == 4 and folder_errors(st) == {}


def test_a_subfolder_unreadable_later_keeps_its_photos_and_marks(world):
    photos, env, lib = world
    private = photos / "private"
    assert cli(env, "add", str(photos)).returncode == 0
    before = {r["path"]: r["id"] for r in dbutil.rows(lib, "SELECT id, path FROM photos")}
    assert len(before) == 4
    a, b = sorted(p for p in before if "/private/" in p)[:2]
    assert cli(env, "duplicates", "--not-duplicates", a, b).returncode == 0
    marks = dbutil.rows(lib, "SELECT * FROM decisions")
    os.chmod(private, 0)
    r = cli(env, "scan")
    assert r.returncode == 0 and "0 removed" in r.stdout, r.stdout
    assert "its 3 photos are kept, offline, until it can be read" in r.stderr
    after = {r["path"]: r["id"] for r in dbutil.rows(lib, "SELECT id, path FROM photos")}
    assert after == before  # same rows, same ids: embeddings, decisions and marks stay
    assert dbutil.rows(lib, "SELECT * FROM decisions") == marks
    st = status(env)
    assert "its 3 photos are kept" in folder_errors(st)[str(private)]
    assert st["folders"][0]["online"] is True  # the rest of the folder reads on
    os.chmod(private, 0o755)
    r = cli(env, "scan")
    assert "0 new, 0 changed, 0 moved, 0 removed" in r.stdout and folder_errors(status(env)) == {}


def test_a_whole_folder_unreadable_is_offline_with_its_photos(world):
    photos, env, lib = world
    assert cli(env, "add", str(photos)).returncode == 0
    os.chmod(photos, 0)
    r = cli(env, "scan")
    assert r.returncode == 0 and "0 removed" in r.stdout and "offline" in r.stdout
    st = status(env)
    assert st["folders"] == [{"path": str(photos), "online": False, "photos": 4}]
    assert "its 4 photos are kept" in folder_errors(st)[str(photos)]
