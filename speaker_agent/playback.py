"""The fetch loop and the play loop: download queued audio, start each item at play_at by the local clock.

One thread decides what plays (the play loop); each playback runs in its own
short thread so the loop can preempt it when an emergency falls due. Every loop
catches, logs and backs off: a bad item never stops the next one.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable

from protocol.messages import PRIORITY_RANK, airtime_rank
from speaker_agent.cache import AudioCache, CacheFull
from speaker_agent.fetch import FetchError, fetch_into_cache
from speaker_agent.mqtt_link import backoff_delay
from speaker_agent.player import Player, PlayResult
from speaker_agent.relay import Relay
from speaker_agent.store import Item, Store
from speaker_agent.volume import Mixer, level_for

log = logging.getLogger(__name__)
EMERGENCY = PRIORITY_RANK["emergency"]
MAX_WAIT_S = 0.5
IDLE_WAIT_S = 30.0
STOP_SIGNALS = (-signal.SIGTERM, -signal.SIGINT, -signal.SIGHUP)


class Playback:
    """Owns the queue's progress from `received` to a final ack."""

    def __init__(self, cfg, store: Store, cache: AudioCache, player: Player, mixer: Mixer,
                 relay: Relay, health, ack: Callable[[str, str, str | None], bytes],
                 on_ack: Callable[[], None], on_change: Callable[[], None]):
        self.cfg = cfg
        self.store = store
        self.cache = cache
        self.player = player
        self.mixer = mixer
        self.relay = relay
        self.health = health
        self.ack = ack
        self.on_ack = on_ack
        self.on_change = on_change
        self.wake_fetch = threading.Event()
        self.wake_play = threading.Event()
        self.current: Item | None = None
        self._interrupt_reason: tuple[str, str] | None = None  # (event, detail)
        self._next_try: dict[str, float] = {}
        self._attempts: dict[str, int] = {}
        self._verified: dict[str, str] = {}  # item id -> sha256 checked shortly before its start
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.streams = None  # the StreamPlayback; set by the agent (they yield to each other)

    @staticmethod
    def file_rank(item: Item) -> int:
        """Airtime rank of a file announcement (against streams)."""
        return airtime_rank(item.command.priority, "file")

    def blocker(self, rank: int, now: float) -> str | None:
        """The announcement that keeps a stream of airtime `rank` off the air, if any.

        The one playing keeps the horn against an equal rank; a waiting one needs a
        higher rank than the stream (ties go to the stream: see streams.py).
        """
        with self._lock:
            current = self.current
        if current is not None:
            return current.id if self.file_rank(current) >= rank else None
        for item in self.store.items(("downloaded",)):
            if (item.command.play_at.timestamp() <= now < item.command.expires_at.timestamp()
                    and self.file_rank(item) > rank):
                return item.id
        return None

    def preempt(self, reason: str) -> bool:
        """Interrupt the announcement playing (it is queued again); True if one was playing."""
        with self._lock:
            if self.current is None:
                return False
            first = self._interrupt_reason is None
            if first:
                self._interrupt_reason = ("preempted", reason)
        if first:  # one SIGTERM: more would make ffmpeg exit without the WAV header
            self.player.interrupt()
        return True

    def set_mixer(self, volume: int) -> None:
        """Set the output volume; a broken mixer is reported, never fatal."""
        try:
            self.mixer.set(volume)
        except Exception as exc:  # a broken mixer must not silence a broadcast
            log.error("volume: %s", exc)
            self.health.error(f"volume: {exc}")

    @property
    def base_volume(self) -> int:
        """The normal-priority volume, as last set by a volume command (or the config)."""
        return int(self.store.setting("volume", str(self.cfg.volume.level)))

    def set_volume(self, level: int) -> str:
        """Handle a volume command: persist the normal level."""
        self.store.set_setting("volume", str(level))
        self.on_change()
        return f"normal volume set to {level}"

    def _finish(self, item: Item, state: str, event: str, detail: str | None = None) -> None:
        """Move an item to a state with its ack, and push the ack out."""
        log.info("%s %s%s", event, item.id, f": {detail}" if detail else "")
        if state not in ("received", "downloaded", "playing"):
            self._next_try.pop(item.id, None)
            self._attempts.pop(item.id, None)
            self._verified.pop(item.id, None)
        if event in ("failed", "expired"):
            self.health.error(f"{item.id} {event}: {detail}")
        self.store.set_state(item.id, state, time.time(), detail, self.ack(item.id, event, detail))
        self.on_ack()
        self.on_change()

    def recover(self) -> None:
        """After a restart: an item that was playing when the agent died is preempted and re-queued."""
        for item in self.store.items(("playing",)):
            self._requeue(item, "agent restarted during playback")

    def _requeue(self, item: Item, detail: str) -> None:
        if item.command.expires_at.timestamp() > time.time():
            self._finish(item, "downloaded", "preempted", f"{detail}; queued again")
        else:
            self._finish(item, "downloaded", "preempted", detail)
            self._finish(item, "expired", "expired", "no longer valid after preemption")

    # -- commands from intake ---------------------------------------------------

    def stop(self, by: str) -> str:
        """Handle a stop command: end what is playing (acked `stopped`)."""
        with self._lock:
            current = self.current
            if current is None:
                return "nothing was playing"
            self._interrupt_reason = ("stopped", f"stopped by command {by}")
        self.player.interrupt()
        return f"stopped {current.id}"

    def notify(self) -> None:
        """A new play item was stored."""
        self.wake_fetch.set()
        self.wake_play.set()
        self.on_change()

    # -- fetch loop ---------------------------------------------------------------

    def fetch_loop(self, stop: threading.Event) -> None:
        """Download audio for received items, best first, retrying with backoff (thread body)."""
        while not stop.is_set():
            self.wake_fetch.clear()
            wait = 5.0
            try:
                for item in self.store.items(("received",)):
                    due = self._next_try.get(item.id, 0.0)
                    if due <= time.time():
                        self._fetch(item)
                    else:
                        wait = min(wait, due - time.time())
            except Exception:
                log.exception("fetch loop error")
                wait = 5.0
            self.wake_fetch.wait(max(0.05, wait))

    def _fetch(self, item: Item) -> None:
        media = item.command.media
        if item.command.expires_at.timestamp() <= time.time():
            return  # the play loop acks it expired
        try:
            fetch_into_cache(self.cache, media.url, media.sha256, media.bytes, self.store.needed_hashes())
        except CacheFull as exc:
            self._finish(item, "failed", "failed", str(exc))
        except FetchError as exc:
            if exc.permanent:
                self._finish(item, "failed", "failed", f"cannot download audio: {exc}")
                return
            n = self._attempts.get(item.id, 0)
            self._attempts[item.id] = n + 1
            delay = backoff_delay(n, base=1.0, cap=60.0)
            self._next_try[item.id] = time.time() + delay
            log.warning("download of %s failed (%s); retry in %.1f s", item.id, exc, delay)
            self.health.error(f"download of {item.id}: {exc}")
        else:
            self._attempts.pop(item.id, None)
            self._next_try.pop(item.id, None)
            self._finish(item, "downloaded", "downloaded", None)
            self.wake_play.set()

    # -- play loop ----------------------------------------------------------------

    def play_loop(self, stop: threading.Event) -> None:
        """Expire, preempt and start items at their play_at (thread body)."""
        self._stop = stop
        while not stop.is_set():
            self.wake_play.clear()
            try:
                wait = self._step(time.time())
            except Exception:
                log.exception("play loop error")
                wait = 2.0
            self.wake_play.wait(max(0.0, wait))
        with self._lock:
            if self.current is not None:
                self._interrupt_reason = ("preempted", "agent shutting down")
        self.player.interrupt()
        # let the playback thread record how it ended before the store is closed
        deadline = time.monotonic() + 5
        while self.current is not None and time.monotonic() < deadline:
            time.sleep(0.05)

    def _expire(self, now: float) -> None:
        for item in self.store.items(("received", "downloaded")):
            if item.command.expires_at.timestamp() <= now:
                self._finish(item, "expired", "expired", "validity ended before it could start")

    def _step(self, now: float) -> float:
        """One decision; returns how long to wait before the next."""
        self._expire(now)
        waiting = self.store.items(("received", "downloaded"))
        ready = [i for i in self.store.items(("downloaded",)) if i.command.play_at.timestamp() <= now]
        upcoming = min((i.command.play_at.timestamp() for i in waiting), default=None)
        warm = self.cfg.relay.warmup_s
        with self._lock:
            current = self.current
        if current is not None:
            top = ready[0] if ready else None
            if top is not None and top.rank == EMERGENCY and current.rank < EMERGENCY:
                with self._lock:
                    self._interrupt_reason = ("preempted", f"preempted by emergency {top.id}")
                self.player.interrupt()
            return MAX_WAIT_S
        if ready and self.streams is not None and not self.streams.may_start_file(
                ready[0].id, self.file_rank(ready[0])):
            return MAX_WAIT_S  # a stream of equal or higher rank has the horn
        if ready:
            self.relay.power_on()
            warm_at = self.relay.ready_at()
            if now < warm_at:
                return warm_at - now  # the amplifier is still warming up
            self._start(ready[0])
            return MAX_WAIT_S
        if upcoming is not None and upcoming - warm <= now:
            self.relay.power_on()
        for item in self.store.items(("downloaded",)):
            if item.command.play_at.timestamp() - now <= max(warm, 2.0):
                self._verify(item)
        self.relay.tick(upcoming)
        if upcoming is None:
            # Idle: new commands wake us; only the relay's idle timer needs polling.
            return MAX_WAIT_S if self.relay.is_on else IDLE_WAIT_S
        return min(max(0.0, upcoming - warm - now) or max(0.0, upcoming - now), MAX_WAIT_S)

    def _verify(self, item: Item) -> bool:
        """Check the cached audio's hash ahead of time, so the start itself stays fast."""
        sha = item.command.media.sha256
        if self._verified.get(item.id) == sha:
            return True
        if not self.cache.has(sha):
            log.warning("audio for %s is missing or corrupt in the cache; fetching again", item.id)
            self.store.set_state(item.id, "received", time.time(), "audio lost from cache")
            self.wake_fetch.set()
            return False
        self._verified[item.id] = sha
        return True

    def _start(self, item: Item) -> None:
        if not self._verify(item):
            return
        self._verified.pop(item.id, None)  # a re-queued item is checked again next time
        self.cache.touch(item.command.media.sha256)
        volume = level_for(item.command.priority, self.base_volume, self.cfg.volume)
        self.set_mixer(volume)
        with self._lock:
            self.current = item
            self._interrupt_reason = None
        self.relay.busy()
        # Start first, then record `playing`: the fsync of the ack must not delay the
        # start (hamlets should start together). The playback thread waits for the
        # record before writing how it ended, so acks stay in order.
        recorded = threading.Event()
        threading.Thread(target=self._run, args=(item, volume, recorded), name=f"play-{item.id}",
                         daemon=True).start()
        try:
            self._finish(item, "playing", "playing", f"volume {volume}")
        finally:
            recorded.set()

    def _run(self, item: Item, volume: int, recorded: threading.Event) -> None:
        """Playback thread: play, then record how it ended."""
        try:
            result = self.player.play(self.cache.path(item.command.media.sha256), item.id, volume)
        except Exception as exc:
            log.exception("player crashed")
            result = None
            reason = f"player error: {exc}"
        recorded.wait()
        if (result is not None and result.returncode in STOP_SIGNALS
                and (self._interrupt_reason is not None or self._stop.wait(5.0))):
            # systemd (KillMode=control-group) and Ctrl-C signal the player together with
            # the agent; that is a shutdown (or the interrupt we asked for, if the signal
            # got there first), not a broken file.
            result = PlayResult("interrupted")
            with self._lock:
                if self._interrupt_reason is None:
                    self._interrupt_reason = ("preempted", "agent shutting down")
        with self._lock:
            interrupt = self._interrupt_reason
            self.current = None
            self._interrupt_reason = None
        try:
            if result is None:
                self._finish(item, "failed", "failed", reason)
            elif result.outcome == "completed":
                self._finish(item, "played", "played", None)
            elif result.outcome == "interrupted" and interrupt and interrupt[0] == "stopped":
                self._finish(item, "stopped", "stopped", interrupt[1])
            elif result.outcome == "interrupted":
                self._requeue(item, interrupt[1] if interrupt else "interrupted")
            else:
                self._finish(item, "failed", "failed", result.reason)
        except Exception:
            log.exception("could not record the end of %s", item.id)
        finally:
            self.relay.idle()
            self.wake_play.set()
