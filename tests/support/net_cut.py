"""A loopback TCP link the test can cut and restore, standing in for a speaker's network.

Speakers reach Icecast through it. `cut()` behaves like a dead link, not like a server that
hangs up: connections already open stay open but carry nothing more (the speaker notices only
by its own stall timeout), and new ones are accepted and then never answered (as a SYN that
gets no reply, the speaker's connect times out). `restore()` drops what was held and forwards
new connections again.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class CuttableLink:
    """Forwards 127.0.0.1:<port> to 127.0.0.1:<target_port> until cut."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.up = True
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._held: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="net-link").start()

    def url(self) -> str:
        """The base URL speakers use instead of Icecast's own."""
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if not self.up:
                    self._held.append(client)  # accepted, never answered
                    continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while self.up and (data := src.recv(65536)):
                if not self.up:
                    return  # a cut link keeps the speaker's socket open and silent
                dst.sendall(data)
        if self.up:  # one end hung up while the link works: the other end sees it
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """The network goes: nothing more flows, open connections hang, new ones are never answered."""
        with self._lock:
            self.up = False
            for client, upstream in self._pairs:
                with contextlib.suppress(OSError):
                    upstream.shutdown(socket.SHUT_RDWR)
                upstream.close()
                self._held.append(client)
            self._pairs = []

    def restore(self) -> None:
        """The network is back: held connections are dropped, new ones are forwarded."""
        with self._lock:
            for client in self._held:
                with contextlib.suppress(OSError):
                    client.shutdown(socket.SHUT_RDWR)  # wakes its pump, which close() would not
                client.close()
            self._held = []
            self.up = True

    def close(self) -> None:
        """Stop listening and drop every connection."""
        self._closed = True
        self.cut()
        self.restore()
        self._listener.close()
