"""The stream loop: plays relay and live sessions from play_at to until, reconnecting while they last.

A session is a stored `play_stream` command (state received → playing → stopped
or failed), so the durable queue remembers it across restarts and the agent
stops it at `until` by its own clock even if the controller is gone.

Who has the horn is decided by `protocol.messages.airtime_rank`: emergency >
live > priority announcement > relay > normal announcement. The higher one
takes the horn from the lower; on a tie whoever is on the air keeps it, and a
due stream goes before a waiting file. A stream that loses the horn is not
ended: it is acked `stream_stalled` ("preempted: …") and comes back at the
live point (a fresh connection, no catching up) with `stream_playing` when the
horn is free again. A file that loses the horn to a stream is preempted and
queued again, as with an emergency.

Acks (detail = a reason word, then ": " and plain words):
- `stream_playing` each time audio flows again;
- `stream_stalled` on each drop, refusal or preemption (the session goes on);
- `stream_stopped` once, with `ended` (until reached), `stopped` (a stop
  command) or `failed` (the player cannot run at all).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from protocol.messages import airtime_rank
from speaker_agent.mqtt_link import backoff_delay
from speaker_agent.relay import Relay
from speaker_agent.store import Item, Store
from speaker_agent.stream_player import StreamPlayer, StreamResult, public_url, with_token
from speaker_agent.volume import level_for

log = logging.getLogger(__name__)
LIVE_STATES = ("received", "playing")
MAX_WAIT_S = 0.5
IDLE_WAIT_S = 30.0
STEADY_S = 10.0  # a connection that played this long resets the backoff
END_S = 2.0
"""A connection lost this close to `until` is the session's end: Icecast cuts listeners at the
time limit it was given, up to about a second early, and reconnecting then only hammers it."""
NOT_ON_AIR_S = 30.0
"""Before a session first plays, its mount may not exist yet (HTTP 404): the relay's ffmpeg or
the live encoder is still connecting. For this long after play_at that is waiting, not a stall."""
NOT_ON_AIR_RETRY_S = 2.0  # cap of the retry delay while waiting for the mount to appear


def session_rank(item: Item) -> int:
    """Airtime rank of a stream session."""
    return airtime_rank(item.command.priority, item.command.stream.kind)


def describe(item: Item) -> str:
    """'relay session relay-7': how a session is named in reasons and the state."""
    s = item.command.stream
    return f"{s.kind} session {s.session_id}"


class StreamPlayback:
    """Owns every stream session from `received` to `stream_stopped`."""

    def __init__(self, cfg, store: Store, player: StreamPlayer, relay: Relay, health,
                 ack: Callable[[str, str, str | None], bytes], on_ack: Callable[[], None],
                 on_change: Callable[[], None]):
        self.cfg = cfg
        self.store = store
        self.player = player
        self.relay = relay
        self.health = health
        self.ack = ack
        self.on_ack = on_ack
        self.on_change = on_change
        self.playback = None  # the file Playback; set by the agent (they yield to each other)
        self.lock = threading.RLock()  # held while deciding who has the horn
        self.wake = threading.Event()
        self.on_air: Item | None = None  # the session whose player runs
        self._takeoff: tuple[str, str] | None = None  # why we ended the connection: (kind, detail)
        self._thread: threading.Thread | None = None
        self._retry_at: dict[str, float] = {}
        self._attempts: dict[str, int] = {}
        self._waits: dict[str, int] = {}  # tries while the mount was not on the air yet
        self._last: dict[str, tuple[str, str | None]] = {}  # last progress ack per session

    # -- acks -------------------------------------------------------------------------

    def _progress(self, item: Item, event: str, detail: str | None = None) -> None:
        """Ack stream_playing / stream_stalled, once per change (not per retry)."""
        with self.lock:
            key = (event, detail if event == "stream_stalled" else None)
            if self._last.get(item.id) == key:
                return
            current = self.store.get(item.id)
            if current is None or current.state not in LIVE_STATES:
                return  # already stopped: a late callback must not follow the final ack
            self._last[item.id] = key
            log.info("%s %s%s", event, describe(item), f": {detail}" if detail else "")
            if event == "stream_stalled":
                self.health.error(f"{describe(item)} stalled: {detail}")
            payload = self.ack(item.id, event, detail)
            if event == "stream_playing" and current.state == "received":
                self.store.set_state(item.id, "playing", time.time(), None, payload)
            else:
                self.store.outbox_add(payload)
        self.on_ack()
        self.on_change()

    def _close(self, item: Item, reason: str, words: str | None = None) -> None:
        """Record the end of a session (`stream_stopped`), taking it off the air if it is on."""
        detail = f"{reason}: {words}" if words else reason
        with self.lock:
            current = self.store.get(item.id)
            if current is None or current.state not in LIVE_STATES:
                return
            state = "failed" if reason == "failed" else "stopped"
            self.store.set_state(item.id, state, time.time(), detail,
                                 self.ack(item.id, "stream_stopped", detail))
            for table in (self._retry_at, self._attempts, self._waits, self._last):
                table.pop(item.id, None)
            if self.on_air is not None and self.on_air.id == item.id:
                self._takeoff = ("closed", detail)
                self.player.interrupt()
        log.info("stream_stopped %s: %s", describe(item), detail)
        self.on_ack()
        self.on_change()
        self.wake.set()

    # -- commands from intake -----------------------------------------------------------

    def notify(self) -> None:
        """A new play_stream command was stored."""
        self.wake.set()
        self.on_change()

    def stop_session(self, session_id: str, by: str) -> str:
        """A stop command naming a session: end that session only."""
        found = [i for i in self.store.items(LIVE_STATES, kind="play_stream")
                 if i.command.stream.session_id == session_id]
        for item in found:
            self._close(item, "stopped", f"by command {by}")
        return f"stopped session {session_id}" if found else f"no session {session_id} is active here"

    def stop_on_air(self, by: str) -> str | None:
        """A stop command without a session: end the session on the air, if any."""
        with self.lock:
            item = self.on_air
        if item is None:
            return None
        self._close(item, "stopped", f"by command {by}")
        return f"stopped {describe(item)}"

    def playing_label(self) -> str | None:
        """What the state message shows while a stream is on the air, e.g. 'relay:relay-7'."""
        with self.lock:
            item = self.on_air
        return f"{item.command.stream.kind}:{item.command.stream.session_id}" if item else None

    # -- the horn, shared with file playback ------------------------------------------

    def _due(self, now: float) -> list[Item]:
        items = [i for i in self.store.items(LIVE_STATES, kind="play_stream")
                 if i.command.play_at.timestamp() <= now < i.command.stream.until.timestamp()]
        return sorted(items, key=lambda i: (-session_rank(i), i.received_at))

    def may_start_file(self, item_id: str, rank: int) -> bool:
        """True when a file of airtime `rank` may start now; takes a lower stream off the air."""
        with self.lock:
            due = self._due(time.time())
            if due and session_rank(due[0]) >= rank:
                return False
            if self.on_air is not None:
                self._take_off(f"preempted: announcement {item_id} is on the air")
                return False  # the file starts once the connection has closed
            for item in due:
                self._progress(item, "stream_stalled", f"preempted: announcement {item_id} is on the air")
            return True

    def _take_off(self, detail: str) -> None:
        """Close the connection of the session on the air; it comes back later at the live point."""
        if self._takeoff is None:
            self._takeoff = ("stalled", detail)
        self.player.interrupt()

    # -- the loop --------------------------------------------------------------------------

    def recover(self) -> None:
        """After a restart: a session that was playing shows a gap; the loop resumes or ends it."""
        for item in self.store.items(("playing",), kind="play_stream"):
            self._progress(item, "stream_stalled", "restarted: the agent restarted during the session")

    def loop(self, stop: threading.Event) -> None:
        """End, preempt, start and restart sessions (thread body)."""
        while not stop.is_set():
            self.wake.clear()
            try:
                wait = self._step(time.time())
            except Exception:
                log.exception("stream loop error")
                wait = 2.0
            self.wake.wait(max(0.05, wait))
        with self.lock:
            if self.on_air is not None:
                self._take_off("restarted: agent shutting down")
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)

    def _step(self, now: float) -> float:
        """One decision; returns how long to wait before the next."""
        live = self.store.items(LIVE_STATES, kind="play_stream")
        for item in live:
            if item.command.stream.until.timestamp() <= now:
                self._close(item, "ended")
        due = self._due(now)
        upcoming = min((i.command.play_at.timestamp() for i in live
                        if i.command.play_at.timestamp() > now), default=None)
        with self.lock:
            best = due[0] if due else None
            if self.on_air is not None:
                self.relay.busy()
                if best is None or best.id != self.on_air.id:  # again each step until it is off
                    self._take_off(f"preempted: {describe(best)}" if best else "ended")
                return MAX_WAIT_S
            if best is None:
                return MAX_WAIT_S if upcoming is None or upcoming - now < IDLE_WAIT_S else IDLE_WAIT_S
            for other in due[1:]:
                self._progress(other, "stream_stalled", f"preempted: {describe(best)}")
            return self._try_start(best, session_rank(best), now)

    def _try_start(self, item: Item, rank: int, now: float) -> float:
        """Start `item` if the horn is free for it (called with the lock held)."""
        blocker = self.playback.blocker(rank, now) if self.playback else None
        if blocker is not None:
            self._progress(item, "stream_stalled", f"preempted: announcement {blocker} is on the air")
            return MAX_WAIT_S
        if self.playback is not None and self.playback.preempt(f"preempted by {describe(item)}"):
            return 0.1  # the file's thread re-queues it; start on the next step
        retry_at = self._retry_at.get(item.id, 0.0)
        if retry_at > now:
            return min(retry_at - now, MAX_WAIT_S)
        self.relay.power_on()
        self.relay.busy()
        warm_at = self.relay.ready_at()
        if now < warm_at:
            return min(warm_at - now, MAX_WAIT_S)
        volume = level_for(item.command.priority, self.playback.base_volume if self.playback
                           else self.cfg.volume.level, self.cfg.volume)
        if self.playback is not None:
            self.playback.set_mixer(volume)
        self.on_air = item
        self._takeoff = None
        self._thread = threading.Thread(target=self._run, args=(item, volume),
                                        name=f"stream-{item.command.stream.session_id}", daemon=True)
        self._thread.start()
        self.on_change()
        return MAX_WAIT_S

    def _run(self, item: Item, volume: int) -> None:
        """Connection thread: pull the stream once, then record how the connection ended."""
        stream = item.command.stream
        log.info("connecting %s to %s", describe(item), public_url(stream.url))
        try:
            result = self.player.play(with_token(stream.url, stream.token, self.cfg.stream.token_param),
                                      stream.session_id, volume,
                                      lambda: self._flowing(item))
        except (FileNotFoundError, PermissionError) as exc:  # ffmpeg cannot run here at all
            log.error("stream player cannot run: %s", exc)
            result = StreamResult("crashed", f"player cannot run: {exc}")
        except Exception as exc:  # anything else: a gap, tried again like a drop
            log.exception("stream player error")
            result = StreamResult("failed", f"player error: {exc}"[:200])
        with self.lock:
            takeoff = self._takeoff
            self._takeoff = None
            # idle before letting go of the horn: a file that takes it next marks the relay busy
            self.relay.idle()
            self.on_air = None
        try:
            self._after(item, result, takeoff)
        except Exception:
            log.exception("could not record the end of a connection of %s", describe(item))
        finally:
            self.on_change()
            self.wake.set()
            if self.playback is not None:
                self.playback.wake_play.set()  # a waiting announcement may start; the relay idles

    def _flowing(self, item: Item) -> None:
        self._progress(item, "stream_playing")

    def _after(self, item: Item, result: StreamResult, takeoff: tuple[str, str] | None) -> None:
        """A connection ended: acknowledge the gap and plan the next try."""
        if takeoff is not None and takeoff[0] == "closed":
            return  # stream_stopped is already recorded
        if result.outcome == "crashed":
            self._close(item, "failed", result.reason)
            return
        if takeoff is not None:
            self._progress(item, "stream_stalled", takeoff[1])
            return  # preempted: back at the live point as soon as the horn is free
        now, until = time.time(), item.command.stream.until.timestamp()
        if until - now < END_S:
            self._retry_at[item.id] = until  # not a gap and no reconnect: the loop ends it at until
            return
        if self._not_on_air_yet(item, result, now):
            n = self._waits.get(item.id, 0)
            self._waits[item.id] = n + 1
            delay = backoff_delay(n, base=self.cfg.stream.retry_min_s,
                                  cap=max(self.cfg.stream.retry_min_s, NOT_ON_AIR_RETRY_S))
            self._retry_at[item.id] = now + delay
            log.info("%s: the mount is not on the air yet (%s); trying again in %.1f s",
                     describe(item), result.reason, delay)
            return
        n = 0 if result.flowed_s >= STEADY_S else self._attempts.get(item.id, 0)
        self._attempts[item.id] = n + 1
        delay = backoff_delay(n, base=self.cfg.stream.retry_min_s, cap=self.cfg.stream.retry_max_s)
        self._retry_at[item.id] = now + delay
        if result.outcome == "dropped":
            word = "dropped"
        elif any(code in (result.reason or "") for code in ("401", "403")):
            word = "refused"  # Icecast said no to the token
        else:
            word = "unreachable"
        log.warning("%s: %s (%s); reconnecting in %.1f s", describe(item), word, result.reason, delay)
        self._progress(item, "stream_stalled", f"{word}: {result.reason}")

    def _not_on_air_yet(self, item: Item, result: StreamResult, now: float) -> bool:
        """The mount does not exist yet, the session never played, and it started not long ago."""
        current = self.store.get(item.id)
        return (result.outcome == "failed" and (result.reason or "").startswith("HTTP 404")
                and current is not None and current.state == "received"
                and now - item.command.play_at.timestamp() < NOT_ON_AIR_S)
