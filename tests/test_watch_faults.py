"""``photofinder watch`` beside other writers and a library that turns read-only (issue 22,
"also seen"): watch takes the writer lock per burst, so trash and undo run while it
watches; when the library can no longer be written, its message names the cause, not the
temporary file whose write failed. A real ``watch`` process, the real model, real files."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import faultkit
from samples import sample_images

ROOT = Path(__file__).resolve().parents[1]


class Watch:
    """``photofinder --library LIB watch`` in a child; its stderr lines are collected."""

    def __init__(self, lib: Path, env: dict, preexec=None):
        self.lines: list[str] = []
        self.p = subprocess.Popen([sys.executable, "-m", "photofinder", "--library", str(lib),
                                   "watch"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True, preexec_fn=preexec,
                                  cwd=ROOT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.p.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 180) -> str | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.p.poll() is None:
            for line in list(self.lines):
                if text in line:
                    return line
            time.sleep(0.2)
        return next((line for line in self.lines if text in line), None)

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.reader.join(timeout=10)


def cli(lib: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "photofinder", "--library", str(lib), *args],
                          env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)


def until_ok(lib: Path, env: dict, *args: str, timeout: float = 180
             ) -> subprocess.CompletedProcess:
    """Run the command until it succeeds (a burst of the watcher may hold the lock for a
    moment; a watcher that holds it for its life never lets it through)."""
    deadline = time.monotonic() + timeout
    while True:
        r = cli(lib, env, *args)
        if r.returncode == 0 or time.monotonic() > deadline:
            return r
        time.sleep(1.0)


def photos(folder: Path, names=("coffee", "astronaut")) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    imgs = sample_images()
    for n in names:
        imgs[n].convert("RGB").save(folder / f"{n}.jpg", quality=90)


def test_trash_and_undo_run_while_watch_watches(tmp_path, model):
    folder = tmp_path / "photos"
    photos(folder)
    shutil.copy2(folder / "coffee.jpg", folder / "coffee copy.jpg")
    lib, xdg = tmp_path / "lib", tmp_path / "xdg"
    env = dict(os.environ, XDG_DATA_HOME=str(xdg))
    assert cli(lib, env, "add", str(folder)).returncode == 0
    w = Watch(lib, env)
    try:
        assert w.wait_for("watching"), w.lines
        r = until_ok(lib, env, "duplicates", "--trash", "--yes")
        assert r.returncode == 0, r.stderr
        left = {p.name for p in folder.iterdir()}
        assert len(left & {"coffee.jpg", "coffee copy.jpg"}) == 1
        assert len(os.listdir(xdg / "Trash" / "files")) == 1
        r = until_ok(lib, env, "undo")
        assert r.returncode == 0, r.stderr
        assert {"coffee.jpg", "coffee copy.jpg"} <= {p.name for p in folder.iterdir()}
        assert faultkit.sha(folder / "coffee.jpg") == faultkit.sha(folder / "coffee copy.jpg")
        assert w.p.poll() is None  # still watching
    finally:
        w.stop()


def test_a_library_that_turns_read_only_says_so(tmp_path, model):
    """The library folder loses its write permission while watch runs (as a user meets it:
    as root the child drops the capabilities that write past permissions). The next burst
    fails with a message that names the read-only library, not index.hnsw.tmp."""
    folder = tmp_path / "photos"
    photos(folder)
    lib = tmp_path / "lib"
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "xdg"))
    assert cli(lib, env, "add", str(folder)).returncode == 0
    w = Watch(lib, env, preexec=faultkit.permissions_hold())
    try:
        assert w.wait_for("watching"), w.lines
        os.chmod(lib, 0o555)
        sample_images()["chelsea"].convert("RGB").save(folder / "chelsea.jpg", quality=90)
        line = w.wait_for("update failed")
        assert line is not None, w.lines
        assert "read-only" in line and str(lib) in line, line
        assert "index.hnsw.tmp" not in line and "FileNotFoundError" not in line, line
        assert w.p.poll() is None  # still watching
    finally:
        os.chmod(lib, 0o755)
        w.stop()
