"""One window per library: a second `photofinder gui IMAGE` hands its request to the running
app and exits; a socket left by a crashed app never blocks the next start. Real processes,
real sockets, the real window (offscreen)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from photofinder import assets
from photofinder.gui.single_instance import Deliverer


class App:
    """A `photofinder -v gui ...` process whose log lines are collected as they come."""

    def __init__(self, env, *args):
        self.lines: list[str] = []
        self.proc = subprocess.Popen([sys.executable, "-m", "photofinder", "-v", *args], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 180.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for line in list(self.lines):
                if text in line:
                    return line
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} from the app; it said:\n" + "\n".join(self.lines))

    def count(self, text: str) -> int:
        return sum(text in line for line in list(self.lines))

    def stop(self, sig=signal.SIGINT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.fixture
def env(tmp_path, model):
    """A library with the demo photos indexed (through the CLI, as a user does)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for p in assets.demo_originals()[:5]:
        shutil.copy(p, photos / p.name)
    e = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PHOTOFINDER_DATA": str(model.parents[1]),
         "PHOTOFINDER_LIBRARY": str(tmp_path / "library"),
         "TMPDIR": tempfile.mkdtemp(prefix="pf"),
         "XDG_RUNTIME_DIR": tempfile.mkdtemp(prefix="pfrun")}  # 0700: where the socket goes
    r = subprocess.run([sys.executable, "-m", "photofinder", "add", str(photos)], env=e,
                       check=False, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    e["PHOTOS"] = str(photos)
    return e


def second(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "photofinder", "gui", *args], env=env,
                          check=False, capture_output=True, text=True, timeout=120)


def test_second_start_hands_over_and_a_crash_never_blocks(env):
    photos = sorted(Path(env["PHOTOS"]).glob("*.jpg"))
    first = App(env, "gui", str(photos[0]))
    try:
        first.wait_for(f"results on screen for {photos[0]}")
        time.sleep(Deliverer.MERGE_S + 0.2)  # later than a multi-selection's burst of starts

        # a second start with one photo: handed over, the second process is gone at once
        r = second(env, str(photos[1]))
        assert r.returncode == 0, r.stderr
        assert r.stderr == ""
        first.wait_for("request from another start: 1 photo(s)")
        first.wait_for(f"results on screen for {photos[1]}")
        assert first.proc.poll() is None

        # several files selected in a file manager: one request, one grid of their results
        time.sleep(Deliverer.MERGE_S + 0.2)
        r = second(env, str(photos[2]), str(photos[3]))
        assert r.returncode == 0, r.stderr
        first.wait_for("request from another start: 2 photo(s)")
        first.wait_for(f"results on screen for {photos[2]}")

        # a bad file is refused by the second start itself, the window is left alone
        r = second(env, str(Path(env["PHOTOS"]) / "missing.jpg"))
        assert r.returncode == 1 and "no such file" in r.stderr
        assert first.count("request from another start") == 2
    finally:
        first.stop(signal.SIGKILL)  # a crash: the socket file stays behind

    sockets = [p for p in Path(env["XDG_RUNTIME_DIR"]).iterdir()
               if p.name.startswith("photofinder-") and p.is_socket()]
    assert sockets, "the crashed app's socket is expected to be left behind"

    # the next start is not blocked by it: it becomes the window, and takes requests
    again = App(env, "gui", str(photos[4]))
    try:
        again.wait_for(f"results on screen for {photos[4]}")
        time.sleep(Deliverer.MERGE_S + 0.2)
        r = second(env, str(photos[0]))
        assert r.returncode == 0, r.stderr
        again.wait_for(f"results on screen for {photos[0]}")
    finally:
        assert again.stop() == 0  # Ctrl+C: a clean close
    # once closed, a start opens a window of its own again
    third = App(env, "gui", str(photos[1]))
    try:
        third.wait_for(f"results on screen for {photos[1]}")
    finally:
        third.stop()


def test_requests_close_together_are_one_selection(qtbot, tmp_path):
    """Explorer starts one process per selected file: the window gathers them."""
    from PySide6.QtWidgets import QWidget

    from photofinder.gui.single_instance import Request

    class Window(QWidget):  # a real widget; records what it is asked to search
        def __init__(self):
            super().__init__()
            self.asked = []

        def search(self, p):
            self.asked.append([p])

        def search_many(self, ps):
            self.asked.append(list(ps))

        def open_dialog(self):
            self.asked.append("dialog")

    w = Window()
    qtbot.addWidget(w)
    now = [100.0]
    d = Deliverer(w, clock=lambda: now[0])
    d.started_with(["/a.jpg"])
    now[0] += 0.3
    d(Request(["/b.jpg"]))
    now[0] += 0.3
    d(Request(["/c.jpg", "/b.jpg"]))
    now[0] += 10
    d(Request(["/d.jpg"]))
    d(Request([], choose=True))
    assert w.asked == [["/a.jpg", "/b.jpg"], ["/a.jpg", "/b.jpg", "/c.jpg"], ["/d.jpg"], "dialog"]
    assert w.isVisible()


def test_several_photos_make_one_grid(library, photo_set):
    from photofinder.gui.multi_search import similar_many

    library.add_folder(photo_set)
    library.update()
    a = str(photo_set / "originals" / "coffee.jpg")
    b = str(photo_set / "originals" / "rocket.jpg")
    res = similar_many(library, [a, b], top=10)
    paths = [m.path for m in res.matches]
    assert res.queries == [a, b] and a not in paths and b not in paths
    assert [m.score for m in res.matches] == sorted((m.score for m in res.matches), reverse=True)
    assert any("coffee-" in p for p in paths[:4]) and any("rocket-" in p for p in paths[:4])
    # a file that cannot be searched is named, the others still searched
    res = similar_many(library, [a, str(photo_set / "nope.jpg")], top=5)
    assert res.queries == [a] and "nope.jpg" in res.skipped[0]
    from photofinder.library import LibraryError

    with pytest.raises(LibraryError):
        similar_many(library, [str(photo_set / "nope.jpg")])


# -- the socket is the user's own ------------------------------------------------------------
OTHER_UID = 4242  # "another user" (root can act as any uid)


@pytest.fixture
def runtime(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "run"
    d.mkdir(mode=0o700)
    os.chmod(d, 0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(d))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # tempfile's own setting
    (tmp_path / "tmp").mkdir()
    return d


def test_the_socket_lives_in_the_users_runtime_dir(runtime, tmp_path):
    from photofinder.gui.single_instance import server_name

    name = server_name(str(tmp_path / "library"))
    assert os.path.dirname(name) == str(runtime)
    assert name == server_name(str(tmp_path / "library"))  # every start finds it
    assert name != server_name(str(tmp_path / "another library"))


def test_without_a_private_runtime_dir_a_private_folder_of_its_own(runtime, tmp_path):
    """An XDG_RUNTIME_DIR others may enter is not used; nor is a guessable name in /tmp:
    the socket goes in a 0700 folder of the user's own."""
    from photofinder.gui.single_instance import server_name

    os.chmod(runtime, 0o755)
    folder = Path(os.path.dirname(server_name(str(tmp_path / "library"))))
    assert folder == tmp_path / "tmp" / f"photofinder-{os.getuid()}"
    st = folder.lstat()
    assert st.st_uid == os.getuid() and (st.st_mode & 0o777) == 0o700


@pytest.mark.skipif(os.geteuid() != 0, reason="a folder of another user needs root (chown)")
def test_a_folder_another_user_made_first_gets_no_hand_over(runtime, tmp_path):
    from photofinder.gui.single_instance import Request, Starter

    os.chmod(runtime, 0o755)
    squat = tmp_path / "tmp" / f"photofinder-{os.getuid()}"
    squat.mkdir(mode=0o777)
    os.chmod(squat, 0o777)
    os.chown(squat, OTHER_UID, OTHER_UID)
    starter = Starter(str(tmp_path / "library"))
    try:
        assert starter.name is None
        assert starter.forward(Request([str(tmp_path / "photo.jpg")])) is False
    finally:
        starter.release()
    assert os.listdir(squat) == []


SQUATTER = """
import os, socket, sys
srv = socket.socket(socket.AF_UNIX)
srv.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
os.setgid(int(sys.argv[2])); os.setuid(int(sys.argv[2]))  # listen() records these credentials
srv.listen(1)
print("listening", flush=True)
srv.settimeout(20)
conn, _ = srv.accept()
conn.settimeout(3)
got = b""
try:
    while True:
        chunk = conn.recv(4096)
        if not chunk:
            break
        got += chunk
except socket.timeout:
    pass
print(len(got), flush=True)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="a listener of another user needs root (setuid)")
def test_a_listener_of_another_user_is_sent_nothing(runtime, tmp_path):
    """Someone else listens where the window would: the start sends it not one byte (no
    photo paths), and opens a window of its own instead of exiting."""
    from photofinder.gui.single_instance import Request, Starter

    starter = Starter(str(tmp_path / "library"))
    squatter = subprocess.Popen([sys.executable, "-c", SQUATTER, starter.name, str(OTHER_UID)],
                                stdout=subprocess.PIPE, text=True)
    try:
        assert squatter.stdout.readline().strip() == "listening"
        assert starter.forward(Request([str(tmp_path / "secret-photo.jpg")])) is False
        assert squatter.stdout.readline().strip() == "0"
    finally:
        starter.release()
        squatter.kill()
        squatter.wait()
