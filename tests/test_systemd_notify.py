"""`commune-radio serve` under systemd's Type=notify: READY=1 once serving, then WATCHDOG=1
while healthy (NOTIFY_SOCKET and WATCHDOG_USEC as systemd sets them)."""

from __future__ import annotations

import contextlib
import socket

import pytest

from tests.support.processes import BIN, Proc, free_port, wait_for

pytestmark = pytest.mark.process


def test_serve_tells_systemd_it_is_ready_and_feeds_the_watchdog(tmp_path):
    from tests.support.controller import fresh_db_url

    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(0.5)
    got: list[str] = []

    def received(word):
        with contextlib.suppress(TimeoutError):
            got.append(sock.recv(4096).decode())
        return any(word in m for m in got)

    env = {"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "2000000",
           "COMMUNE_RADIO_DATABASE_URL": fresh_db_url(tmp_path),
           "COMMUNE_RADIO_BROKER_PORT": str(free_port())}
    cmd = [str(BIN / "commune-radio"), "serve", "--data", str(tmp_path / "d"), "--port", str(free_port())]
    ctl = Proc(cmd,
               tmp_path / "serve.log", env).start()
    try:
        wait_for(lambda: received("READY=1"), timeout=90, what="READY=1")
        wait_for(lambda: received("WATCHDOG=1"), timeout=30, what="WATCHDOG=1")
        ctl.stop()
        wait_for(lambda: received("STOPPING=1"), timeout=30, what="STOPPING=1")
    finally:
        ctl.stop()
        sock.close()
