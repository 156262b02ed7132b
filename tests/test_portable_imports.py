"""The core runs without POSIX-only modules (as on Windows): in a fresh interpreter where
fcntl, pwd, grp, termios and resource cannot be imported, photofinder indexes real photos,
searches, finds duplicates, reports its status and plans its file-manager integration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from PIL import Image
from samples import sample_images

BLOCKED = ("fcntl", "pwd", "grp", "termios", "resource", "posix_ipc")

PROGRAM = textwrap.dedent("""
    import importlib.abc, json, sys

    BLOCKED = set(sys.argv[1].split(","))

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r} (blocked: not on Windows)",
                                          name=name)
            return None

    sys.meta_path.insert(0, Block())
    for m in list(sys.modules):
        if m.split(".")[0] in BLOCKED:
            del sys.modules[m]

    import contextlib, io
    from photofinder.cli.main import main

    def run(*args):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(list(args))
        assert code == 0, (args, code)
        return out.getvalue()

    lib, photos, query = sys.argv[2], sys.argv[3], sys.argv[4]
    run("--library", lib, "add", photos)
    report = {
        "similar": json.loads(run("--library", lib, "similar", query, "--json")),
        "duplicates": json.loads(run("--library", lib, "duplicates", "--json")),
        "status": json.loads(run("--library", lib, "status", "--json")),
        "integrate": json.loads(run("integrate", "status", "--json")),
        "loaded": sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED),
        "photofinder": sorted(m for m in sys.modules if m.startswith("photofinder")),
    }
    print("REPORT " + json.dumps(report))
""")


def test_core_without_posix_only_modules(tmp_path, model):
    photos = tmp_path / "photos"
    photos.mkdir()
    imgs = sample_images()
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        imgs[name].save(photos / f"{name}.jpg", quality=90)
    small = imgs["chelsea"].resize((imgs["chelsea"].width // 2, imgs["chelsea"].height // 2),
                                   Image.Resampling.LANCZOS)
    small.save(photos / "chelsea-small.jpg", quality=85)
    query = photos / "chelsea.jpg"
    env = {**os.environ, "PHOTOFINDER_DATA": str(model.parents[1]), "HOME": str(tmp_path / "home"),
           "XDG_DATA_HOME": str(tmp_path / "home" / "share"),
           "XDG_CONFIG_HOME": str(tmp_path / "home" / "config")}
    r = subprocess.run([sys.executable, "-c", PROGRAM, ",".join(BLOCKED), str(tmp_path / "lib"),
                        str(photos), str(query)], env=env, check=False, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("REPORT "))
    report = json.loads(line[len("REPORT "):])
    assert report["loaded"] == []  # nothing got them some other way
    assert report["similar"]["results"][0]["path"] == str(photos / "chelsea-small.jpg")
    groups = report["duplicates"]["groups"]
    assert any({m["path"] for m in g["members"]} == {str(query), str(photos / "chelsea-small.jpg")}
               for g in groups)
    assert report["status"]["photos"]["indexed"] == 5
    assert {i["name"] for i in report["integrate"]["integrations"]} >= {"desktop", "thunar"}
    for module in ("photofinder.library", "photofinder.store.catalog", "photofinder.work.indexer",
                   "photofinder.dedup.cleanup", "photofinder.platforms.installer"):
        assert module in report["photofinder"]


def test_the_blocker_blocks(tmp_path):
    """The check above could not pass by accident: the same blocker stops a real import."""
    probe = PROGRAM.split("import contextlib, io")[0] + "import fcntl\n"
    r = subprocess.run([sys.executable, "-c", probe, "fcntl"], check=False, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1 and "blocked: not on Windows" in r.stderr
