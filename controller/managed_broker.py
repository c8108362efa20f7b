"""A Mosquitto child process run from a generated config in the data directory."""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from controller import broker_files

log = logging.getLogger(__name__)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True if nothing listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def stop_child(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM a managed child (Mosquitto, Icecast), wait, then SIGKILL it if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def next_free_port(start: int, host: str = "127.0.0.1", tries: int = 200) -> int:
    """The first free port at or after `start`."""
    for port in range(start, start + tries):
        if port_is_free(port, host):
            return port
    raise RuntimeError(f"no free port in {start}..{start + tries - 1}")


def _die_with_parent() -> None:  # runs in the child between fork and exec
    # If the controller dies, even by kill -9, the kernel sends the broker SIGTERM, so it
    # saves its persistence file and frees the port instead of lingering as an orphan.
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def running_pid(pid_file: Path) -> int | None:
    """The pid of a Mosquitto running from this files directory, if one is."""
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    if b"mosquitto" not in cmdline or str(pid_file.parent).encode() not in cmdline:
        return None
    return pid


def stop_stale(pid_file: Path) -> None:
    """Stop a broker left running from this data directory by an earlier controller."""
    pid = running_pid(pid_file)
    if pid is None:
        return
    log.warning("stopping stale managed broker (pid %d)", pid)
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.1)


def find_mosquitto() -> str:
    """Path of the mosquitto binary (Debian installs it in /usr/sbin, often not on PATH)."""
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise RuntimeError("mosquitto is not installed: apt-get install mosquitto")
    return found


class ManagedBroker:
    """Runs Mosquitto as a child process; files live in `files_dir`."""

    def __init__(self, files_dir: Path, port: int = 1883, bind: str = "127.0.0.1",
                 tls: broker_files.TlsSettings | None = None):
        self.files_dir = Path(files_dir)
        self.requested_port = port
        self.port = port
        self.bind = bind
        self.tls = tls
        self.controller_port: int | None = None
        """The controller's own loopback listener (chosen at start; only its account)."""
        self.proc: subprocess.Popen | None = None

    @property
    def config_path(self) -> Path:
        """Where the generated mosquitto.conf is written."""
        return self.files_dir / "mosquitto.conf"

    def write_config(self) -> None:
        """Generate mosquitto.conf; passwd and acl are written by `write_auth`."""
        (self.files_dir / "persist").mkdir(parents=True, exist_ok=True)
        # Run as whoever we are: as root, Mosquitto would otherwise switch to the
        # `mosquitto` user, which cannot read our 0600 password file (DESIGN.md).
        user = pwd.getpwuid(os.getuid()).pw_name
        text = broker_files.render_config(
            port=self.port, files_dir=self.files_dir, run_as_user=user, bind=self.bind,
            tls=self.tls, controller_port=self.controller_port,
        )
        broker_files.write_private(self.config_path, text)

    def write_auth(self, accounts: dict[str, str], acl: str) -> None:
        """Write the password file and ACL (and reload a running broker)."""
        broker_files.write_private(self.files_dir / "passwd",
                                   broker_files.render_password_file(accounts))
        controller = {u: h for u, h in accounts.items() if u == broker_files.CONTROLLER_USER}
        broker_files.write_private(self.files_dir / broker_files.CONTROLLER_PASSWD,
                                   broker_files.render_password_file(controller))
        broker_files.write_private(self.files_dir / "acl", acl)
        self.reload()

    def start(self, timeout: float = 15.0) -> int:
        """Start Mosquitto on the requested port or the next free one; return the port."""
        stop_stale(self.files_dir / "mosquitto.pid")
        if not port_is_free(self.requested_port, self.bind):
            self.port = next_free_port(self.requested_port + 1, self.bind)
            log.info("port %d is taken; managed broker uses %d", self.requested_port, self.port)
        taken = {self.port, self.tls.port if self.tls else 0}
        # Kept across restarts, so a connected controller's reconnects find it again. Chosen
        # next to the speakers' port, never from the kernel's ephemeral range: a port from
        # that range was taken by some outgoing connection while the broker was down, and
        # the restarted broker then moved the controller's listener where the controller
        # never looks (seen in tests/speaker_agent/test_resilience.py).
        if (self.controller_port in taken or self.controller_port is None
                or not port_is_free(self.controller_port, "127.0.0.1")):
            port = self.port + 1
            while (port := next_free_port(port, "127.0.0.1")) in taken:
                port += 1
            self.controller_port = port
        self.write_config()
        log_path = self.files_dir / "mosquitto.stderr"
        with open(log_path, "ab") as err:
            self.proc = subprocess.Popen(  # noqa: S603 - fixed binary, generated config
                [find_mosquitto(), "-c", str(self.config_path)],
                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - only calls prctl
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"mosquitto exited with {self.proc.returncode}; see {self.files_dir}/mosquitto.log"
                )
            try:
                with socket.create_connection((self.bind, self.port), timeout=0.5):
                    return self.port
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout:.0f}s")

    def reload(self) -> None:
        """Ask a running broker to re-read its password file and ACL (SIGHUP)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGHUP)
            return
        # Another process (e.g. `commune-radio serve`) runs the broker and this one is the
        # CLI revoking a speaker: signal it through its pid file so revocation is immediate.
        # Mosquitto 2.0.11 re-checks connected clients on reload and disconnects those
        # whose account has vanished (tests/security/test_revocation.py).
        pid = running_pid(self.files_dir / "mosquitto.pid")
        if pid is not None:
            os.kill(pid, signal.SIGHUP)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the broker gracefully (it saves its persistence file), then forcibly."""
        if self.proc is None:
            return
        stop_child(self.proc, timeout)
        self.proc = None

    def running(self) -> bool:
        """True while the child process is alive."""
        return self.proc is not None and self.proc.poll() is None
