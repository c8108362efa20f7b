"""The relay supervisor: one ffmpeg per running relay, whatever the number of speakers.

The database is the truth: a loop (like the dispatcher's: it catches, logs and backs off)
starts a worker for each relay in state `running` whose time has come, and ends relays at
`until`. A controller killed with -9 loses only its workers (ffmpeg dies with it through
PR_SET_PDEATHSIG); the restarted loop finds the same rows and starts them again, and the
time since the last sign of audio (`Relay.fed_at`) is logged as a gap, so the log is complete.

Upstream trouble, and what the mount carries meanwhile:
- The upstream goes down (ffmpeg exits, or its output clock stops for `stall_s`): ffmpeg is
  restarted with backoff (1, 2, 4, 8 s). While it is down nobody feeds the mount, so
  Icecast drops it and the speakers' players lose the stream: agents report `stream_stalled`
  and reconnect while the session lasts, and pick the mount up again when it returns.
  We chose that over an Icecast fallback mount fed with silence: with silence the agents
  could not tell anyone that the hamlet hears nothing.
- The upstream goes silent for `silence_s` (silencedetect): if the source has a backup URL,
  the relay switches to it; the mount blips for about a second and the agents reconnect.
  Without a backup the silence is relayed as it is (it may be a minute of silence on air).
- While on the backup, the main URL is listened to every `recheck_s`; once it has sound
  again the relay switches back.
- Each outage or silence is a gap (start, end, reason) in the relay log and in the stream
  session's log (`streams.record_gap`), closed when audio flows again or the relay ends.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

import sqlalchemy as sa

from controller import relay_pipeline
from controller.models import utcnow
from controller.relay_models import Relay
from controller.services import relay_log

log = logging.getLogger(__name__)
BACKOFF_MAX_S = 8.0
FED_EVERY_S = 2.0
"""How often a worker notes that audio flows: after a crash the gap starts at most this early."""


class RelaySupervisor:
    """The loop thread; `kick()` wakes it when a relay was started or stopped."""

    def __init__(self, ctx, push_url, *, silence_s: float = 15.0, stall_s: float = 8.0,
                 recheck_s: float = 60.0, interval_s: float = 1.0):
        self.ctx = ctx
        self.push_url = push_url
        """Callable mount -> icecast:// URL with source credentials."""
        self.silence_s = silence_s
        self.stall_s = stall_s
        self.recheck_s = recheck_s
        self.interval_s = interval_s
        self.workers: dict[int, RelayWorker] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the loop thread."""
        self._thread = threading.Thread(target=self._loop, name="relay-supervisor", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        """Wake the loop now."""
        self._wake.set()

    def stop(self) -> None:
        """Stop the loop and every worker (relays stay `running` in the DB for the next start)."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)
        for w in list(self.workers.values()):
            w.stop(wait=True)

    def _loop(self) -> None:
        backoff = self.interval_s
        while not self._stop.is_set():
            self._wake.wait(backoff)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.run_once()
                backoff = self.interval_s
            except Exception:
                log.exception("relay supervisor pass failed; retrying")
                backoff = min(30.0, backoff * 2)

    def run_once(self, now: datetime | None = None) -> None:
        """End relays past their end, start workers for running ones, drop the rest."""
        now = now or utcnow()
        with self.ctx.db.session() as s:
            for r in s.scalars(sa.select(Relay).where(Relay.state == "running",
                                                      Relay.until <= now)):
                relay_log.finish(s, r, "ended", "reached its end time", now)
            running = {r.id: r for r in s.scalars(
                sa.select(Relay).where(Relay.state == "running", Relay.starts_at <= now))}
            for rid, r in running.items():
                w = self.workers.get(rid)
                if w is None or not w.alive:
                    self.workers[rid] = self._spawn(r, now)
        for rid in [rid for rid in self.workers if rid not in running]:
            self.workers.pop(rid).stop(wait=False)

    def _spawn(self, r: Relay, now: datetime) -> RelayWorker:
        w = RelayWorker(self, r.id, r.source.url, r.source.backup_url, r.until,
                        mount=r.session.mount, session_id=r.session_id)
        w.on_backup = r.on_backup
        with self.ctx.db.session() as s:
            w.gap = relay_log.open_gap_of(s, r.session_id)
            if w.gap is None and r.fed_at is not None:
                # The relay had sound in an earlier worker (an earlier controller process, as a
                # rule): nothing was relayed from its last sign of audio until this one's.
                reason = "controller restarted; relay picked up again"
                w.gap = (relay_log.open_gap(s, r.session_id, r.fed_at, reason), r.fed_at, reason)
        w.start()
        return w


class RelayWorker:
    """One relay's ffmpeg and its state machine (main/backup, gaps, backoff), in a thread."""

    def __init__(self, sup: RelaySupervisor, relay_id: int, main_url: str, backup_url: str | None,
                 until: datetime, *, mount: str, session_id: int):
        self.sup = sup
        self.relay_id = relay_id
        self.main_url = main_url
        self.backup_url = backup_url
        self.until = until
        self.mount = mount
        self.session_id = session_id
        self.gap: tuple[int, datetime, str] | None = None
        """The open gap: (gap id, started_at, reason), or None while audio flows."""
        self.gap_ends_on_audio = True
        """False for a silence gap: ffmpeg's clock runs on through silence; silence_end ends it."""
        self.on_backup = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"relay-{relay_id}", daemon=True)
        self._pipe: relay_pipeline.Pipe | None = None
        self._fed_written = 0.0

    @property
    def alive(self) -> bool:
        """The worker thread still runs."""
        return self._thread.is_alive()

    def start(self) -> None:
        """Start the worker thread."""
        self._thread.start()

    def stop(self, wait: bool) -> None:
        """Stop ffmpeg and the thread; an open gap is closed now."""
        self._stop.set()
        if wait:
            self._thread.join(timeout=10)

    def _remaining(self) -> float:
        return (self.until - utcnow()).total_seconds()

    def _run(self) -> None:
        backoff = 1.0
        try:
            while not self._stop.is_set() and self._remaining() > 0:
                try:
                    heard = self._one_pipe()
                except Exception:
                    log.exception("relay %d: pipeline failed", self.relay_id)
                    heard = False
                if self._stop.is_set() or self._remaining() <= 0:
                    break
                backoff = 1.0 if heard else min(BACKOFF_MAX_S, backoff * 2)
                self._maybe_use_backup()
                self._stop.wait(min(backoff, max(0.0, self._remaining())))
        finally:
            self._close_gap(min(utcnow(), self.until), "until the relay ended")

    def _one_pipe(self) -> bool:
        """Run ffmpeg on the current URL until it dies, stalls, or must switch; True if audio flowed."""
        url = self.backup_url if self.on_backup else self.main_url
        log.info("relay %d: pulling %s", self.relay_id, url)
        pipe = self._pipe = relay_pipeline.Pipe(url, self.sup.push_url(self.mount),
                                                self.sup.silence_s)
        heard = False
        last_audio = time.monotonic()
        next_check = time.monotonic() + self.sup.recheck_s
        try:
            while not self._stop.is_set() and self._remaining() > 0:
                try:
                    ev = pipe.events.get(timeout=0.5)
                except Exception:  # queue.Empty
                    ev = None
                mono = time.monotonic()
                if ev is None:
                    if mono - last_audio > self.sup.stall_s:
                        self._open_gap(_ago(mono - last_audio), "upstream stalled: no audio "
                                       f"for {self.sup.stall_s:g} s")
                        return heard
                    if self.on_backup and mono >= next_check:
                        next_check = mono + self.sup.recheck_s
                        if relay_pipeline.upstream_alive(self.main_url):
                            self._switch(False, "main source has sound again")
                            return heard
                    continue
                if ev.kind == "audio":
                    heard = True
                    last_audio = ev.at
                    if self.gap and self.gap_ends_on_audio:
                        self._close_gap(utcnow(), "relaying the backup source"
                                        if self.on_backup else None)
                    self._mark_fed()
                elif ev.kind == "silence_start":
                    self._open_gap(_ago(mono - ev.at + self.sup.silence_s),
                                   f"silence on the {'backup' if self.on_backup else 'main'} "
                                   f"source for over {self.sup.silence_s:g} s", on_audio=False)
                    if self.backup_url and not self.on_backup:
                        self._switch(True, "main source silent")
                        return heard
                elif ev.kind == "silence_end":
                    self._close_gap(utcnow())
                elif ev.kind == "exit":
                    self._open_gap(utcnow(), f"upstream down: {ev.detail}")
                    return heard
            return heard
        finally:
            pipe.stop()

    def _maybe_use_backup(self) -> None:
        """After a failure on main, go to the backup once the gap is older than silence_s."""
        if (self.backup_url and not self.on_backup and self.gap is not None
                and (utcnow() - self.gap[1]).total_seconds() >= self.sup.silence_s):
            self._switch(True, "main source down")

    def _switch(self, to_backup: bool, why: str) -> None:
        self.on_backup = to_backup
        self.gap_ends_on_audio = True  # the other source's first audio ends the gap
        log.warning("relay %d: %s; switching to the %s source", self.relay_id, why,
                    "backup" if to_backup else "main")
        with self.sup.ctx.db.session() as s:
            relay_log.switched(s, self.relay_id, to_backup, why, utcnow())

    def _open_gap(self, at: datetime, reason: str, on_audio: bool = True) -> None:
        if self.gap is None:
            log.warning("relay %d: gap: %s", self.relay_id, reason)
            with self.sup.ctx.db.session() as s:
                gap_id = relay_log.open_gap(s, self.session_id, at, reason)
            self.gap = (gap_id, at, reason)
            self.gap_ends_on_audio = on_audio

    def _close_gap(self, at: datetime, note: str | None = None) -> None:
        if self.gap is None:
            return
        gap_id, started, _reason = self.gap
        self.gap = None
        log.info("relay %d: gap closed (%s)", self.relay_id, note or "sound again")
        with self.sup.ctx.db.session() as s:
            relay_log.close_gap(s, gap_id, max(at, started), note)

    def _mark_fed(self) -> None:
        mono = time.monotonic()
        if mono - self._fed_written >= FED_EVERY_S:
            self._fed_written = mono
            with self.sup.ctx.db.session() as s:
                relay_log.fed(s, self.relay_id, utcnow())


def _ago(seconds: float) -> datetime:
    return utcnow() - timedelta(seconds=max(0.0, seconds))
