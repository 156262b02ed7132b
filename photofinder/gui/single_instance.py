"""One window per library. The first ``photofinder gui`` on a library listens on a local socket
(QLocalServer: a Unix socket, a named pipe on Windows) named after the user and the library;
a later ``photofinder gui IMAGE...`` on the same library hands its request to that window and
exits at once. The window comes to the front and searches.

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
import sys
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


def server_name(library_path: str) -> str:
    """The same for every start on one library by one user; short enough for a Unix socket
    path and legal as a Windows pipe name."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError, ImportError):  # no user name: no environment, no pwd module
        user = os.path.expanduser("~")
    key = f"{user}\0{os.path.normcase(os.path.abspath(library_path))}"
    return "photofinder-" + hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:24]


def forward(name: str, request: Request) -> bool:
    """Hand ``request`` to the window listening on ``name``; True once it said it has it."""
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(CONNECT_MS):
        return False
    _let_it_come_forward()
    sock.write(request.encode())
    sock.flush()
    data = b""
    while not data.endswith(b"\n") and sock.waitForReadyRead(ANSWER_MS):
        data += bytes(sock.readAll())
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

    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.name = name
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._on_connection)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
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
        buf = self._buffers.get(sock, b"") + bytes(sock.readAll())
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
        self.name = server_name(library_path)
        self.lock = QLockFile(os.path.join(library_path, "gui-start.lock"))
        self.locked = self.lock.tryLock(LOCK_MS)  # not had (a start hung): go on without it

    def forward(self, request: Request) -> bool:
        return forward(self.name, request)

    def listen(self) -> InstanceServer:
        server = InstanceServer(self.name)
        if not server.listen():
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
