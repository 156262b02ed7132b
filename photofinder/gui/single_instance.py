"""One window per library. The first ``photofinder gui`` on a library listens on a local socket
(QLocalServer: a Unix socket, a named pipe on Windows) named after the user and the library;
a later ``photofinder gui IMAGE...`` on the same library hands its request to that window and
exits at once. The window comes to the front and searches.

The socket is private to the user: it lives in ``$XDG_RUNTIME_DIR`` (a folder only the user
can enter), else in ``photofinder-$uid`` in the temporary folder, made 0700 and checked to be
the user's own (another user who made it first gets no hand-over: this start opens its own
window). Before a request is sent, the process listening is checked to be the user's own
(its credentials on the socket), so the photos looked up never reach anybody else.

Starting is serialised by a lock file in the library (QLockFile, which sees through the lock
of a process that died), so two starts at the same moment never both become "the first",
and a socket left by a crashed app is removed instead of blocking the next start. The
hand-over itself needs no QApplication, so a second start never opens a window.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import socket
import stat
import struct
import sys
import tempfile
from dataclasses import dataclass, field

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

CONNECT_MS = 1000
ANSWER_MS = 10000
LOCK_MS = 15000
ACK = b"ok\n"


@dataclass
class Request:
    images: list[str] = field(default_factory=list)  # absolute paths
    choose: bool = False  # ask for a photo to search by

    def encode(self) -> bytes:
        return json.dumps({"images": self.images, "choose": self.choose}).encode() + b"\n"

    @classmethod
    def decode(cls, data: bytes) -> Request:
        d = json.loads(data.decode())
        images = [str(p) for p in d.get("images", []) if isinstance(p, str)]
        return cls(images, bool(d.get("choose", False)))


def _private(folder: str) -> str | None:
    """Why ``folder`` is not one only this user can enter, or None: a real folder (not a
    symbolic link), the user's own, closed to everyone else."""
    try:
        st = os.lstat(folder)
    except OSError as e:
        return f"{folder} cannot be read: {e.strerror or e}"
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        return f"{folder} is not a folder (a symbolic link?)"
    if st.st_uid != os.getuid():
        return f"{folder} belongs to another user (uid {st.st_uid})"
    if st.st_mode & 0o077:
        return f"others may enter {folder} (mode {stat.S_IMODE(st.st_mode):o})"
    return None


def socket_folder() -> tuple[str | None, str | None]:
    """(the folder for this user's sockets, None) or (None, why there is none):
    ``$XDG_RUNTIME_DIR`` when it is private, else ``photofinder-$uid`` in the temporary
    folder, made 0700 and checked (never a folder another user made first)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and _private(runtime) is None:
        return runtime, None
    folder = os.path.join(tempfile.gettempdir(), f"photofinder-{os.getuid()}")
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError as e:
        return None, f"{folder} cannot be made: {e.strerror or e}"
    why = _private(folder)
    return (None, why) if why else (folder, None)


def server_name(library_path: str) -> str | None:
    """The same for every start on one library by one user. On Unix, a socket path in the
    user's private folder (``socket_folder``), or None when there is none; on Windows, a
    pipe name (QLocalServer's UserAccessOption keeps it to the user)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError, ImportError):  # no user name: no environment, no pwd module
        user = os.path.expanduser("~")
    key = f"{user}\0{os.path.normcase(os.path.abspath(library_path))}"
    name = "photofinder-" + hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    if sys.platform == "win32":
        return name
    folder, why = socket_folder()
    if folder is None:
        log.warning("no private folder for the window's socket (%s): this start opens a "
                    "window of its own", why)
        return None
    return os.path.join(folder, name)


def peer_is_me(sock: QLocalSocket, name: str) -> bool:
    """The process at the other end of ``sock`` runs as this user: its credentials on the
    socket (SO_PEERCRED, Linux), else the owner of the socket file in the private folder.
    Windows pipes are kept to the user by their access rights."""
    if sys.platform == "win32":
        return True
    if hasattr(socket, "SO_PEERCRED"):
        fd = int(sock.socketDescriptor())
        if fd < 0:
            return False
        with socket.socket(fileno=os.dup(fd)) as s:
            creds = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return struct.unpack("3i", creds)[1] == os.getuid()
    try:
        return os.lstat(name).st_uid == os.getuid()
    except OSError:
        return False


def forward(name: str | None, request: Request) -> bool:
    """Hand ``request`` to the window listening on ``name``; True once it said it has it.
    Nothing is sent to a listener that is not this user's own."""
    if name is None:
        return False
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(CONNECT_MS):
        return False
    try:
        mine = peer_is_me(sock, name)
    except OSError as e:
        log.warning("cannot tell who listens on %s (%s): not handing over", name, e)
        mine = False
    if not mine:
        log.warning("%s is held by another user: not handing the request over", name)
        sock.abort()
        return False
    _let_it_come_forward()
    sock.write(request.encode())
    sock.flush()
    data = b""
    while not data.endswith(b"\n") and sock.waitForReadyRead(ANSWER_MS):
        data += sock.readAll().data()
    sock.disconnectFromServer()
    if sock.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        sock.waitForDisconnected(CONNECT_MS)
    return data == ACK


def _let_it_come_forward() -> None:
    """Windows gives the foreground only to the process the user just acted in (this one):
    let the running window take it."""
    if sys.platform == "win32":
        import ctypes

        ctypes.windll.user32.AllowSetForegroundWindow(-1)  # ASFW_ANY


class InstanceServer(QObject):
    """Listens for later starts; ``requested`` carries each one's Request."""

    requested = Signal(object)

    def __init__(self, name: str | None, parent=None):
        super().__init__(parent)
        self.name = name
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._on_connection)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        if self.name is None:
            return False
        if self.server.listen(self.name):
            return True
        # a socket file left by an app that crashed (we hold the start lock, and nobody
        # answered on it): remove it and listen again
        QLocalServer.removeServer(self.name)
        return self.server.listen(self.name)

    def close(self) -> None:
        self.server.close()

    def _on_connection(self) -> None:
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            self._buffers[sock] = b""
            sock.readyRead.connect(lambda s=sock: self._on_data(s))
            sock.disconnected.connect(lambda s=sock: self._forget(s))

    def _on_data(self, sock: QLocalSocket) -> None:
        buf = self._buffers.get(sock, b"") + sock.readAll().data()
        if len(buf) > 1 << 20:  # not one of ours
            sock.abort()
            return
        self._buffers[sock] = buf
        if not buf.endswith(b"\n"):
            return
        try:
            request = Request.decode(buf)
        except (ValueError, UnicodeDecodeError):
            sock.abort()
            return
        sock.write(ACK)
        sock.flush()
        self.requested.emit(request)

    def _forget(self, sock: QLocalSocket) -> None:
        self._buffers.pop(sock, None)
        sock.deleteLater()


class Starter:
    """The start of a window on a library, under the library's start lock: ``forward`` a
    request to a running window, else (once the QApplication exists: a server created
    before it would never see a connection) ``listen`` as the window; then ``release``."""

    def __init__(self, library_path: str):
        os.makedirs(library_path, exist_ok=True)
        self.name = server_name(library_path)  # None: no private folder, no hand-overs
        self.lock = QLockFile(os.path.join(library_path, "gui-start.lock"))
        self.locked = self.lock.tryLock(LOCK_MS)  # not had (a start hung): go on without it

    def forward(self, request: Request) -> bool:
        return forward(self.name, request)

    def listen(self) -> InstanceServer:
        server = InstanceServer(self.name)
        if self.name is not None and not server.listen():
            # a name we may not take over: this window goes on without hand-overs
            log.warning("cannot listen on %s (%s): later starts open windows of their own",
                        self.name, server.server.errorString())
        return server

    def release(self) -> None:
        if self.locked:
            self.lock.unlock()
            self.locked = False


def bring_to_front(window) -> None:
    from PySide6.QtCore import Qt

    window.setWindowState((window.windowState() & ~Qt.WindowState.WindowMinimized)
                          | Qt.WindowState.WindowActive)
    window.show()
    window.raise_()
    window.activateWindow()
    handle = window.windowHandle()
    if handle is not None:
        handle.requestActivate()


class Deliverer:
    """What the running window does with each request: come to the front, then search.

    Explorer starts one process per selected file, all at once; the first becomes the
    window, the others wait on the start lock and hand over as soon as it listens. So
    requests that follow each other (or the window's start) within ``MERGE_S`` seconds are
    one selection: the window searches by all their photos (one grid,
    ``MainWindow.search_many``) instead of showing only the last one."""

    MERGE_S = 1.0

    def __init__(self, window, clock=None):
        import time

        self.window = window
        self.clock = clock or time.monotonic
        self._images: list[str] = []
        self._last = float("-inf")

    def started_with(self, images: list[str]) -> None:
        """The window's own start request (already being searched)."""
        self._images = list(images)
        self._last = self.clock()

    def __call__(self, request: Request) -> None:
        bring_to_front(self.window)
        now = self.clock()
        if request.images:
            if now - self._last <= self.MERGE_S and self._images:
                images = self._images + [p for p in request.images if p not in self._images]
            else:
                images = list(request.images)
            self._images, self._last = images, now
            if len(images) == 1:
                self.window.search(images[0])
            else:
                self.window.search_many(images)
        if request.choose:
            self.window.open_dialog()
