"""Daily backups with a retention count, and the status the admin page and /healthz show.

The status lives in a small JSON file beside the backups, not in the database: a backup of a
database that records its own backup would always be one step behind, and the page must still
say "last backup failed" when the database is what failed.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from controller import backup

log = logging.getLogger(__name__)
PREFIX = "commune-radio-"
SUFFIX = ".tar.gz"
STALE_AFTER = timedelta(days=2)
"""A last success older than this raises the alarm on the page."""


class BackupRunner:
    """Runs one backup on demand or daily, prunes old ones, and remembers how it went."""

    def __init__(self, settings):
        self.settings = settings
        self.dir = settings.backups_path
        self.status_path = self.dir / "status.json"
        self._lock = threading.Lock()
        self._sched: BackgroundScheduler | None = None

    def start(self) -> None:
        """Arm the daily backup at `backup_hour` local time (nothing when it is -1)."""
        if self.settings.backup_hour < 0:
            return
        self._sched = BackgroundScheduler(timezone=self.settings.timezone)
        self._sched.add_job(self.run_safely, CronTrigger(hour=self.settings.backup_hour, minute=7,
                                                         timezone=self.settings.timezone),
                            id="daily-backup", misfire_grace_time=3600, coalesce=True)
        self._sched.start()

    def stop(self) -> None:
        """Stop the daily timer (a backup under way finishes first)."""
        if self._sched is not None:
            self._sched.shutdown(wait=True)
            self._sched = None

    def run(self, now: datetime | None = None) -> backup.BackupInfo:
        """Write one backup now, keep the newest `backup_keep`, and record the outcome."""
        now = now or datetime.now(UTC)
        with self._lock:
            self.dir.mkdir(parents=True, exist_ok=True)
            out = self.dir / f"{PREFIX}{now:%Y%m%d-%H%M%S}{SUFFIX}"
            try:
                info = backup.create(self.settings, out)
            except Exception as exc:
                self._write_status(last_error=f"{type(exc).__name__}: {exc}"[:400],
                                   last_error_at=now.isoformat())
                raise
            self._prune()
            self._write_status(last_success_at=now.isoformat(), last_bytes=info.bytes,
                               last_file=out.name, last_error=None, last_error_at=None)
            return info

    def run_safely(self) -> None:
        """The timer body: a failed backup is logged and shown on the page, never raised."""
        try:
            info = self.run()
            log.info("backup written: %s (%d bytes)", info.path, info.bytes)
        except Exception:
            log.exception("daily backup failed; the older backups are kept")

    def archives(self) -> list[Path]:
        """Finished backups, oldest first (a .partial is never listed)."""
        if not self.dir.is_dir():
            return []
        return sorted(p for p in self.dir.iterdir() if p.name.startswith(PREFIX) and p.name.endswith(SUFFIX))

    def _prune(self) -> None:
        for old in self.archives()[:-self.settings.backup_keep]:
            old.unlink(missing_ok=True)

    def status(self, now: datetime | None = None) -> dict:
        """Last success, size, age, last error, and whether the alarm is on."""
        now = now or datetime.now(UTC)
        st = self._read_status()
        last = datetime.fromisoformat(st["last_success_at"]) if st.get("last_success_at") else None
        return {**st, "count": len(self.archives()), "folder": str(self.dir),
                "age_s": None if last is None else int((now - last).total_seconds()),
                "alarm": last is None or now - last > STALE_AFTER}

    def _read_status(self) -> dict:
        try:
            return json.loads(self.status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _write_status(self, **changes) -> None:
        st = {**self._read_status(), **changes}
        tmp = Path(f"{self.status_path}.tmp")
        try:
            tmp.write_text(json.dumps(st, indent=1), encoding="utf-8")
            os.replace(tmp, self.status_path)
        except OSError:
            # A full disk must not hide the original failure; the log still has it.
            log.exception("could not record the backup status")
