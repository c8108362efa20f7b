"""An Icecast 2 child process run from a generated config, like the managed Mosquitto.

Secrets (source and admin passwords) live in the data directory, 0600. The config itself
is regenerated at every start.

Icecast refuses to run as root. Its own remedy, `<security><changeowner>`, was tried first
and dropped: the kernel clears PR_SET_PDEATHSIG when a process changes its uid, so an
Icecast that switches to `icecast2` itself outlives a controller killed with -9 (probed:
the orphan kept serving). As root we therefore start it as `icecast2` ourselves (Popen
user/group, applied before the death signal is set), with no changeowner in the config.
That user then reads the config, at start and on SIGHUP: a config under a 0700 folder (a
data folder in /root, pytest's tmp) fails to reload with "Parse error" and the old config
stays. So as root the config is written to a folder that user can read (0750, group icecast).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from controller import icecast_files
from controller.broker_files import new_secret, write_private
from controller.managed_broker import next_free_port, port_is_free, stop_child

log = logging.getLogger(__name__)


def find_icecast() -> str:
    """Path of Debian's icecast2 binary."""
    found = shutil.which("icecast2") or shutil.which("icecast2", path="/usr/bin:/usr/sbin")
    if not found:
        raise RuntimeError("icecast2 is not installed: apt-get install icecast2")
    return found


def running_pid(pid_file: Path, config_path: Path) -> int | None:
    """The pid of an Icecast running from this config, if one is."""
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    if b"icecast" not in cmdline or str(config_path).encode() not in cmdline:
        return None
    return pid


def stop_stale(pid_file: Path, config_path: Path) -> None:
    """Stop an Icecast left running from this data directory by an earlier controller."""
    pid = running_pid(pid_file, config_path)
    if pid is None:
        return
    log.warning("stopping stale managed icecast (pid %d)", pid)
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.1)


def _death_signal_setter():
    """A preexec function setting PR_SET_PDEATHSIG, with libc loaded here in the parent.

    Popen runs preexec after switching to the icecast2 user, who cannot import ctypes from
    a Python installed under /root; the bound function needs no file access.
    """
    try:
        import ctypes

        prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except OSError:
        return None

    def set_signal() -> None:
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: Icecast ends when the controller dies

    return set_signal


def _secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    value = new_secret()
    write_private(path, value + "\n")
    return value


def _config_dir(files_dir: Path) -> Path:
    """Where icecast.xml goes: the data folder, or as root a folder icecast2 can read."""
    if os.geteuid() != 0:
        return files_dir
    tag = hashlib.sha256(str(files_dir.resolve()).encode()).hexdigest()[:12]
    base = Path("/run") if os.access("/run", os.W_OK) else Path(tempfile.gettempdir())
    return base / f"commune-radio-icecast-{tag}"


def _make_group_dir(d: Path) -> None:
    import grp

    d.mkdir(mode=0o750, exist_ok=True)
    os.chown(d, 0, grp.getgrnam(icecast_files.ICECAST_GROUP).gr_gid)
    os.chmod(d, 0o750)  # noqa: S103 - group icecast must read the config, nobody else


class ManagedIcecast:
    """Runs Icecast as a child process; secrets and logs live in `files_dir`."""

    def __init__(self, files_dir: Path, port: int = 8000, bind: str = "127.0.0.1",
                 listener_auth_url: str | None = None):
        self.files_dir = Path(files_dir)
        self.requested_port = port
        self.port = port
        self.bind = bind
        self.listener_auth_url = listener_auth_url
        self.source_logins: dict[str, icecast_files.SourceLogin] = {}
        self.proc: subprocess.Popen | None = None
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self.source_password = _secret(self.files_dir / "source.secret")
        self.admin_password = _secret(self.files_dir / "admin.secret")
        self.as_root = os.geteuid() == 0
        self.config_path = _config_dir(self.files_dir) / "icecast.xml"

    @property
    def pid_file(self) -> Path:
        """Written by us (Icecast's own pidfile would need a folder icecast2 can write)."""
        return self.files_dir / "icecast.pid"

    def write_config(self) -> None:
        """Generate icecast.xml (0600, or 0640 group icecast when Icecast drops root)."""
        text = icecast_files.render_config(icecast_files.IcecastConfig(
            port=self.port, bind=self.bind, hostname=self.bind,
            source_password=self.source_password, admin_password=self.admin_password,
            listener_auth_url=self.listener_auth_url,
            source_logins=tuple(self.source_logins.values()),
        ))
        if self.as_root:
            _make_group_dir(self.config_path.parent)
        write_private(self.config_path, text)
        if self.as_root:
            import grp

            os.chown(self.config_path, 0, grp.getgrnam(icecast_files.ICECAST_GROUP).gr_gid)
            os.chmod(self.config_path, 0o640)

    def start(self, timeout: float = 15.0, tries: int = 3) -> int:
        """Start Icecast on the requested port or the next free one; return the port."""
        stop_stale(self.pid_file, self.config_path)
        self.port = self.requested_port
        for _attempt in range(tries):
            if not port_is_free(self.port, self.bind):
                # Also covers a system icecast2 started by the Debian package on 8000.
                taken, self.port = self.port, next_free_port(self.port + 1, self.bind)
                log.info("port %d is taken; managed icecast uses %d", taken, self.port)
            if self._run(timeout):
                return self.port
            # Another program took the port between our check and Icecast's bind (seen
            # with several controllers starting at once): try the next one.
            log.warning("icecast2 could not start on %d (%s); trying again", self.port,
                        self._log_tail())
            self.port += 1
        raise RuntimeError(f"icecast2 did not start ({tries} tries): {self._log_tail()} "
                           f"(see {self.files_dir}/icecast.log)")

    def _run(self, timeout: float) -> bool:
        """Start the child on self.port; True once it answers, False if it exited."""
        self.write_config()
        as_user = {}
        if self.as_root:
            import grp

            gid = grp.getgrnam(icecast_files.ICECAST_GROUP).gr_gid
            as_user = {"user": icecast_files.ICECAST_USER, "group": gid, "extra_groups": [gid]}
        with open(self.files_dir / "icecast.log", "ab") as err:
            self.proc = subprocess.Popen(  # noqa: S603 - fixed binary, generated config
                [find_icecast(), "-c", str(self.config_path)],
                stdout=err, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True,
                preexec_fn=_death_signal_setter(),  # noqa: PLW1509 - only calls prctl
                **as_user,
            )
        self.pid_file.write_text(f"{self.proc.pid}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                return False
            if self.status() is not None:
                return True
            time.sleep(0.05)
        self.stop()
        return False

    def _log_tail(self) -> str:
        try:
            lines = (self.files_dir / "icecast.log").read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return " | ".join(lines[-3:])

    def _admin_request(self, path: str) -> urllib.request.Request:
        import base64

        req = urllib.request.Request(f"http://{self.bind}:{self.port}{path}")  # noqa: S310
        cred = base64.b64encode(f"admin:{self.admin_password}".encode()).decode()
        req.add_header("Authorization", f"Basic {cred}")
        return req

    def admin(self, command: str, **params: str) -> bool:
        """Run an Icecast admin command (e.g. killclient); True if Icecast says it succeeded."""
        from urllib.parse import urlencode

        req = self._admin_request(f"/admin/{command}?{urlencode(params)}")
        try:
            with urllib.request.urlopen(req, timeout=5) as r:  # noqa: S310 - loopback server
                return b"<return>1</return>" in r.read()
        except OSError:
            return False

    def status(self) -> dict | None:
        """Icecast's admin statistics ({"mounts": [...]}) or None if it does not answer.

        Not /status-json.xsl: the default mount's URL authentication also guards the web
        root, so the public status page asks the controller, which may not be up yet.
        """
        import xml.etree.ElementTree as ET  # noqa: N817 - the usual name

        req = self._admin_request("/admin/stats")
        try:
            with urllib.request.urlopen(req, timeout=1) as r:  # noqa: S310 - our loopback server
                root = ET.fromstring(r.read())  # noqa: S314 - our own server's answer
        except (OSError, ET.ParseError):
            return None
        return {"server_id": root.findtext("server_id") or "",
                "mounts": [s.get("mount") for s in root.findall("source")]}

    def add_source_login(self, mount: str, username: str, password: str, wait_s: float = 10.0) -> None:
        """Give one mount its own source credentials, reload Icecast, and wait until they work.

        Icecast applies a SIGHUP reload about a second later (measured on 2.4.4: 0.99-1.01 s),
        so an encoder that connected right after "go live" answered was refused with 401.
        The same reload carries a throwaway probe mount; once a source login on it is
        accepted, the new config is in force, for the real mount too, and no listener or
        agent ever sees the probe.
        """
        self.source_logins[mount] = icecast_files.SourceLogin(mount, username, password)
        probe = icecast_files.SourceLogin(f"/reload-check-{secrets.token_hex(6)}", "reload",
                                          secrets.token_hex(12))
        self.source_logins[probe.mount] = probe
        self.reload()
        del self.source_logins[probe.mount]  # gone from the config at the next reload
        deadline = time.monotonic() + wait_s
        while self.running() and time.monotonic() < deadline:
            if self._source_login_works(probe):
                return
            time.sleep(0.05)
        log.warning("Icecast did not apply the new source login for %s within %.0f s", mount, wait_s)

    def _source_login_works(self, login) -> bool:
        """Whether Icecast accepts this source login now (an empty PUT: the mount opens and closes)."""
        import base64

        cred = base64.b64encode(f"{login.username}:{login.password}".encode()).decode()
        req = urllib.request.Request(f"http://{self.bind}:{self.port}{login.mount}", data=b"", method="PUT",
                                     headers={"Authorization": f"Basic {cred}", "Content-Type": "audio/ogg"})
        try:
            with urllib.request.urlopen(req, timeout=2):  # noqa: S310 - our loopback server
                return True
        except OSError:  # HTTPError 401 (not yet), or no answer
            return False

    def remove_source_login(self, mount: str) -> None:
        """Take a mount's own source credentials away (and reload Icecast)."""
        if self.source_logins.pop(mount, None) is not None:
            self.reload()

    def reload(self) -> None:
        """Rewrite the config and make a running Icecast re-read it (SIGHUP).

        Probed on 2.4.4: mount sections added on reload apply to the next source login;
        a source already connected keeps streaming.
        """
        if self.proc is None or self.proc.poll() is not None:
            return
        self.write_config()
        self.proc.send_signal(signal.SIGHUP)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop Icecast, gracefully then forcibly."""
        if self.proc is None:
            return
        stop_child(self.proc, timeout)
        self.proc = None
        self.pid_file.unlink(missing_ok=True)
        if self.as_root and self.config_path.parent != self.files_dir:
            shutil.rmtree(self.config_path.parent, ignore_errors=True)

    def running(self) -> bool:
        """True while the child process is alive."""
        return self.proc is not None and self.proc.poll() is None
