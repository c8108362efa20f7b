"""Over-the-air updates of the agent itself: check, wait for silence, download, install, switch.

The `update` command is signed like any other (the intake verified it). Here:
1. refuse a downgrade or the same version (packaging.version), and an update whose
   advertised size does not fit the disk, before any download;
2. wait until nothing is on the air (never update while playing);
3. download with the same code as audio (fetch.download) and check the SHA-256;
4. build a new versioned venv (venvs.build_venv), write the pending marker, switch
   `current` with one rename, then exit so systemd restarts us in the new version.

The new version confirms itself (`update_installed`) once it reaches the broker. If it
does not within `update.confirm_within_s`, or crashes `update.max_starts` times, the
rollback guard (update_guard.py, run by systemd before each start from the
*previous* venv, which is known good) points `current` back and acks `rolled_back`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from protocol.digest import sha256_file
from protocol.messages import Command, Update
from speaker_agent import venvs
from speaker_agent.fetch import FetchError, download

log = logging.getLogger(__name__)

MARKER = "update_pending.json"
EXIT_RESTART = 75  # EX_TEMPFAIL: systemd's Restart=always starts the new `current`
# A venv holds the wheel unpacked plus the copied dependencies (cryptography is most of it):
# measured 31 MB for a 0.36 MB wheel on Debian 12 / Python 3.11 (docs/benchmarks.md); 40 MB
# leaves a margin for a Pi's larger ARM libraries.
VENV_OVERHEAD_BYTES = 40_000_000


def refusal(update: Update, running: str, free_bytes: int | None, min_free: int = 0) -> str | None:
    """Why this update must not be installed here, or None: downgrade, same version, no room."""
    try:
        new, old = Version(update.version), Version(running)
    except InvalidVersion as exc:
        return f"version not comparable: {exc}"
    if new < old:
        return f"downgrade refused: {update.version} is older than the running {running}"
    if new == old:
        return f"already running {running}"
    need = needed_bytes(update.bytes) + min_free
    if free_bytes is not None and free_bytes < need:
        return (f"not enough disk: the update needs about {need // 1_000_000} MB, "
                f"{free_bytes // 1_000_000} MB free")
    return None


def needed_bytes(wheel_bytes: int) -> int:
    """Disk an update needs: the download plus the new venv."""
    return wheel_bytes * 2 + VENV_OVERHEAD_BYTES


@dataclass
class Pending:
    """The marker written before the switch: what to confirm, or what to roll back to."""

    command_id: str
    version: str
    previous: str
    deadline: float
    starts: int = 0

    @classmethod
    def read(cls, data_dir: Path) -> Pending | None:
        """The marker in `data_dir`, if an update awaits confirmation."""
        try:
            return cls(**json.loads((data_dir / MARKER).read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as exc:
            log.error("unreadable update marker, ignoring it: %s", exc)
            return None

    def write(self, data_dir: Path) -> None:
        """Write durably (temp file, fsync, rename)."""
        tmp = data_dir / (MARKER + ".tmp")
        with open(tmp, "w") as fh:
            json.dump(self.__dict__, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, data_dir / MARKER)

    @staticmethod
    def clear(data_dir: Path) -> None:
        """Forget the marker."""
        (data_dir / MARKER).unlink(missing_ok=True)


class Updater:
    """Runs update commands on a thread of its own; confirms a fresh update after a restart."""

    def __init__(self, cfg, store, health, ack, pump, is_idle, request_exit):
        self.cfg = cfg
        self.settings = cfg.update
        self.base = Path(self.settings.base_dir)
        self.data = Path(cfg.data_dir)
        self.store = store
        self.health = health
        self.ack = ack  # (command_id, event, detail) -> encoded ack
        self.pump = pump
        self.is_idle = is_idle
        self.request_exit = request_exit  # (exit code) -> stops the agent
        self.wake = threading.Event()

    # -- on arrival -------------------------------------------------------------------

    def accept(self, cmd: Command) -> str | None:
        """Check a stored update command at once; the refusal reason (acked `rejected`) or None."""
        reason = refusal(cmd.update, self.health.version, venvs_free(self.base),
                         self.cfg.cache.min_free_bytes)
        if reason is None and not (self.base / "current").is_symlink():
            # systemd would go on starting the old venv: refuse rather than loop on installs.
            reason = (f"{self.base}/current is not a symlink: this install predates versioned "
                      "venvs; run install.sh again to enable updates")
        if reason:
            log.warning("update %s to %s refused: %s", cmd.id, cmd.update.version, reason)
            self.health.error(f"update refused: {reason}")
            self._finish(cmd.id, "rejected", reason)
            return reason
        self.wake.set()
        return None

    def _finish(self, command_id: str, event: str, detail: str) -> None:
        self.store.set_state(command_id, "done", time.time(), detail, self.ack(command_id, event, detail))
        self.pump()

    # -- the worker ---------------------------------------------------------------------

    def loop(self, stop: threading.Event) -> None:
        """Install waiting updates when idle (thread body); confirm a fresh one first."""
        self._confirm(stop)
        while not stop.is_set():
            try:
                items = self.store.items(("received",), kind="update")
                if items and self.is_idle():
                    self._install(items[-1].command, stop)
                    for older in items[:-1]:
                        self._finish(older.id, "update_failed", "superseded by a newer update command")
            except Exception:
                log.exception("update loop failed; retrying")
                stop.wait(10)
            self.wake.wait(2.0)
            self.wake.clear()

    def _install(self, cmd: Command, stop: threading.Event) -> None:
        up = cmd.update
        reason = refusal(up, self.health.version, venvs_free(self.base), self.cfg.cache.min_free_bytes)
        if reason is None and not (self.base / "current").is_symlink():
            reason = f"{self.base}/current is not a symlink: run install.sh again to enable updates"
        if reason:
            self._finish(cmd.id, "rejected", reason)
            return
        work = self.data / "updates"
        work.mkdir(exist_ok=True)
        wheel = work / up.url.rsplit("/", 1)[-1]
        part = wheel.with_name(wheel.name + ".part")
        log.info("update %s: downloading %s (%d bytes)", cmd.id, up.url, up.bytes)
        try:
            download(up.url, part, up.bytes)
        except FetchError as exc:
            if exc.permanent:
                self._finish(cmd.id, "update_failed", f"download failed: {exc}")
            else:
                log.warning("update %s: %s; retrying later", cmd.id, exc)
                stop.wait(15)
            return
        got = sha256_file(part)
        if got != up.sha256:
            part.unlink(missing_ok=True)
            log.error("update %s: wheel hash mismatch (expected %s, got %s)", cmd.id, up.sha256, got)
            self._finish(cmd.id, "update_failed", f"sha256 mismatch: expected {up.sha256}, got {got}")
            return
        os.replace(part, wheel)
        target = self.base / "venvs" / up.version
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # left by an attempt that was rolled back: build it afresh
            shutil.rmtree(target)
        try:
            venvs.build_venv(target, wheel, system_site_packages=self.settings.system_site_packages)
        except venvs.InstallError as exc:
            self._finish(cmd.id, "update_failed", str(exc))
            return
        finally:
            wheel.unlink(missing_ok=True)
        current = self.base / "current"
        previous = os.readlink(current) if current.is_symlink() else ""
        Pending(cmd.id, up.version, previous, time.time() + self.settings.confirm_within_s).write(self.data)
        venvs.switch_current(self.base, target)
        log.info("update %s: switched to %s; restarting", cmd.id, up.version)
        self.request_exit(EXIT_RESTART)

    def _confirm(self, stop: threading.Event) -> None:
        """After a switch: ack `update_installed` once connected, or exit by the deadline."""
        pending = Pending.read(self.data)
        if pending is None:
            return
        if pending.version != self.health.version:
            log.warning("update marker is for %s but this is %s; the guard decides",
                        pending.version, self.health.version)
            return
        while not stop.is_set():
            if self.connected():
                Pending.clear(self.data)
                self._finish(pending.command_id, "update_installed", f"version {pending.version}")
                log.info("update %s: version %s confirmed", pending.command_id, pending.version)
                return
            if time.time() > pending.deadline:
                log.error("update to %s: no broker within the deadline; exiting for rollback",
                          pending.version)
                self.request_exit(1)
                return
            stop.wait(1.0)

    connected = staticmethod(lambda: False)  # replaced by the agent: the MQTT link's state


def venvs_free(base: Path) -> int | None:
    """Free bytes where the venvs go."""
    probe = base if base.exists() else base.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None
