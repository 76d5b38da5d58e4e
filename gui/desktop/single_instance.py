"""One ConvScope per user: a second launch hands its files to the running window and exits.

The running window listens on a ``QLocalServer`` (a Unix socket in the temporary folder, or a named
pipe on Windows; no network) whose name holds the user id, so users never reach each other's
window. A launch first tries to connect: when a server answers, the paths (made absolute, since the
two processes have different working folders) are sent as one line of JSON and the running window
replies ``ok``. A socket file left behind by a crashed ConvScope answers no connection; it is
removed and the new window listens in its place. ``--new-instance`` skips all this.
"""

from __future__ import annotations

import getpass
import json
import os
import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

#: tests set this to a unique name so that test processes never hand files to each other
NAME_ENV = "CONVSCOPE_INSTANCE_NAME"
CONNECT_MS = 500
REPLY_MS = 5000


def server_name() -> str:
    """The per-user name of the running window's server."""
    if os.environ.get(NAME_ENV):
        return os.environ[NAME_ENV]
    if hasattr(os, "getuid"):
        return f"convscope-{os.getuid()}"
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name: the home folder is still per user
        user = os.path.basename(os.path.expanduser("~"))
    return f"convscope-{user}"


def hand_off(paths, name: str | None = None, cwd: str | None = None) -> bool:
    """Send ``paths`` to a running ConvScope; True when it took them (then this launch should exit)."""
    socket = QLocalSocket()
    socket.connectToServer(name or server_name())
    if not socket.waitForConnected(CONNECT_MS):
        return False
    base = cwd or os.getcwd()
    message = {"paths": [os.path.abspath(os.path.join(base, os.fspath(p))) for p in paths], "cwd": base}
    socket.write((json.dumps(message) + "\n").encode("utf-8"))
    if not socket.waitForBytesWritten(REPLY_MS):
        return False
    reply = b""
    while b"\n" not in reply and socket.waitForReadyRead(REPLY_MS):
        reply += bytes(socket.readAll().data())
    socket.disconnectFromServer()
    if not reply:
        # a busy window (a kernel compilation holds the GIL for seconds) reads the paths later:
        # opening a second window now would open them twice
        print("convscope: handed the files to the running ConvScope (it is busy and will open them "
              "shortly); use --new-instance for a separate window", file=sys.stderr)
        return True
    return reply.strip() == b"ok"


class InstanceServer(QObject):
    """Listens for later launches; ``paths_received(list)`` carries the paths each one sent."""

    paths_received = Signal(list)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._on_new_connection)
        self.name = ""
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self, name: str | None = None) -> bool:
        """Start listening; a stale socket of a crashed instance is removed first. False when another
        live instance owns the name or the system refuses (ConvScope then simply runs alone)."""
        name = name or server_name()
        # ask first: with UserAccessOption Qt renames its new socket over an existing one, live or not
        probe = QLocalSocket()
        probe.connectToServer(name)
        if probe.waitForConnected(CONNECT_MS):
            probe.disconnectFromServer()
            return False                            # a live ConvScope: not ours to replace
        QLocalServer.removeServer(name)             # a socket file nobody answers on: a crashed run
        if self.server.listen(name):
            self.name = name
            return True
        return False

    def close(self) -> None:
        self.server.close()

    def _on_new_connection(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            self._buffers[socket] = b""
            socket.readyRead.connect(self._on_ready_read)
            socket.disconnected.connect(self._on_disconnected)

    def _on_ready_read(self) -> None:
        socket = self.sender()
        if not isinstance(socket, QLocalSocket):
            return
        data = self._buffers.get(socket, b"") + bytes(socket.readAll().data())
        self._buffers[socket] = data
        if b"\n" not in data:
            return
        line = data.split(b"\n", 1)[0]
        try:
            message = json.loads(line.decode("utf-8"))
            paths = [str(p) for p in message.get("paths", [])]
        except (ValueError, AttributeError):
            socket.write(b"error\n")
            socket.flush()
            return
        socket.write(b"ok\n")
        socket.flush()
        self.paths_received.emit(paths)

    def _on_disconnected(self) -> None:
        socket = self.sender()
        self._buffers.pop(socket, None)
        if isinstance(socket, QLocalSocket):
            socket.deleteLater()
