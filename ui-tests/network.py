"""A loopback TCP relay between a browser and a server, whose link a test can cut and restore.

A laptop that sleeps, or a Wi-Fi that drops, closes the page's connections and refuses new ones
for a while; Chromium's own offline mode only stalls open websockets, which then carry on as if
nothing happened. The relay does the former: ``cut()`` closes every relayed connection and turns
new ones away until ``restore()``. ``retarget()`` sends new connections to another server, as a
load balancer does when the one a page was on died.
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

from lab_server import free_port
from pages import LabPage

CHUNK = 65536


class Relay:
    """Listens on a free loopback port and relays each connection to ``target_port``."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._up = True
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self) -> None:
        """Drop every relayed connection, and refuse new ones until ``restore``."""
        with self._lock:
            self._up = False
            for sock in self._open:
                _close(sock)
            self._open.clear()

    def restore(self) -> None:
        with self._lock:
            self._up = True

    def retarget(self, port: int) -> None:
        with self._lock:
            self.target_port = port

    def stop(self) -> None:
        self.cut()
        self._listener.close()  # ends the accepting thread

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                up, port = self._up, self.target_port
            try:
                if not up:
                    raise ConnectionRefusedError
                server = socket.create_connection(("127.0.0.1", port))
            except OSError:
                client.close()
                continue
            with self._lock:
                if not self._up:  # cut while it connected
                    _close(client)
                    _close(server)
                    continue
                self._open.update((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        """Copy one direction until either side closes, then close both."""
        with suppress(OSError):
            while chunk := source.recv(CHUNK):
                sink.sendall(chunk)
        with self._lock:
            for sock in (source, sink):
                self._open.discard(sock)
                _close(sock)


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def type_while_away(link: Relay, user: LabPage, cell: int, text: str) -> None:
    """Cut ``user``'s link, wait until its page noticed, and type ``text`` in ``cell``."""
    link.cut()
    user.expect_connected(False)
    user.append_to_cell(cell, text)
