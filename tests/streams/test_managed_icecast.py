"""The managed Icecast: generated config accepted by Icecast itself, pushes and pulls, root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.icecast import TestIcecast, pull_status, push_tone, stop_push
from tests.support.processes import wait_for

pytestmark = pytest.mark.process


def _uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


def test_generated_config_serves_a_pushed_mount_to_listeners(icecast, tmp_path):
    """Icecast starts from our config, takes an ffmpeg push and serves Ogg to a listener."""
    code, body = pull_status(icecast.listen_url("/status-json.xsl"))
    assert code == 200 and b'"icestats"' in body
    if os.geteuid() == 0:  # Icecast refuses root; changeowner makes it the icecast2 user
        import pwd

        assert _uid_of(icecast.managed.proc.pid) == pwd.getpwnam("icecast2").pw_uid
    pusher = push_tone(icecast.source_url("/engine-probe"), log=tmp_path / "push.log")
    try:
        icecast.wait_mount("/engine-probe")
        code, head = pull_status(icecast.listen_url("/engine-probe"))
        assert code == 200
        assert head.startswith(b"OggS")  # the Ogg/Opus headers replayed to a late listener
    finally:
        stop_push(pusher)
    secret = icecast.managed.files_dir / "source.secret"
    assert secret.stat().st_mode & 0o777 == 0o600


def test_per_mount_source_login_takes_effect_on_reload(tmp_path):
    """An external encoder's own login works on its mount as soon as add_source_login returns
    (Icecast applies a reload about a second later; "go live" used to answer before that)."""
    ice = TestIcecast(tmp_path / "ice").start()
    try:
        ice.managed.add_source_login("/live-7", "studio", "s3cret-pass")

        def pushed() -> bool:
            p = push_tone(ice.source_url("/live-7", "studio", "s3cret-pass"), seconds=3,
                          log=tmp_path / "push.log")
            try:
                ice.wait_mount("/live-7", timeout=2.5)
                return True
            except AssertionError:
                return False
            finally:
                stop_push(p)

        assert pushed(), "the studio login was refused right after add_source_login returned"
        # The mount's own login replaces the shared source password on that mount.
        rejected = push_tone(ice.source_url("/live-7"), seconds=2, log=tmp_path / "push2.log")
        assert rejected.wait(30) != 0
    finally:
        ice.stop()


def test_icecast_dies_with_a_controller_killed_hard(tmp_path):
    """kill -9 of the process that runs Icecast takes Icecast down too (no orphan on the port)."""
    import signal
    import subprocess
    import sys

    script = ("import sys, time\nfrom pathlib import Path\n"
              "from controller.managed_icecast import ManagedIcecast\n"
              "m = ManagedIcecast(Path(sys.argv[1]), port=18300)\nm.start()\n"
              "print(m.proc.pid, flush=True)\ntime.sleep(300)\n")
    parent = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "ice")],
                              stdout=subprocess.PIPE, text=True)
    try:
        ice_pid = int(parent.stdout.readline())
        assert Path(f"/proc/{ice_pid}").exists()
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        wait_for(lambda: not Path(f"/proc/{ice_pid}").exists()
                 or "Z" in Path(f"/proc/{ice_pid}/stat").read_text().split()[2],
                 timeout=30, what="icecast to exit with its parent")
    finally:
        parent.kill()
        # The killed parent could not remove the config folder it made for icecast2 (as root).
        from controller.managed_icecast import ManagedIcecast

        folder = ManagedIcecast(tmp_path / "ice").config_path.parent
        if folder != tmp_path / "ice":
            import shutil

            shutil.rmtree(folder, ignore_errors=True)


def test_a_port_taken_after_the_check_moves_icecast_to_the_next_one(tmp_path, monkeypatch):
    """Two controllers starting at once both see 18400 free; the loser moves on."""
    import socket

    from controller import managed_icecast

    taker = socket.socket()
    taker.bind(("127.0.0.1", 0))
    taker.listen()
    port = taker.getsockname()[1]
    monkeypatch.setattr(managed_icecast, "port_is_free", lambda p, host: p != port + 1)
    ice = TestIcecast(tmp_path / "ice", port=port)
    try:
        assert ice.start().port > port + 1  # port: bind failed; port + 1: "taken"
        assert ice.managed.status() is not None
    finally:
        ice.stop()
        taker.close()
