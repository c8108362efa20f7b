"""Running live sessions and the watchdog that ends the ones nobody feeds any more.

A live session is fed one of two ways: the browser posts chunks (we run the encoder), or an
external encoder (BUTT, ffmpeg on the studio PC) connects to the mount itself. Either way the
rule for ending is the same promise to the hamlets: nothing stays live unattended.
- Browser: no chunk for `idle_s` (tab closed, phone locked, network lost) → the encoder is
  closed and the session ends ("browser_gone").
- External: the mount had a source and lost it for longer than `grace_s` (a mixer PC
  reconnects within a few seconds after a Wi-Fi hiccup) → "source_lost"; nobody ever came
  within `start_window_s` → "no_source".
Ending is a callback into the service layer (it writes the log and stops the speakers); the
watchdog catches and logs, so one bad session cannot stop it looking after the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from controller.live.chunks import ChunkSequencer
from controller.live.encoder import LiveEncoder

log = logging.getLogger(__name__)

RESTART_GAP_S = 1.0
"""A dead encoder is started again at most this often (the pieces in between are lost)."""
MAX_CHUNK_BYTES = 512 * 1024
"""A 250 ms Opus chunk is ~1–2 KB; anything near this is not a microphone."""


class IngestError(Exception):
    """A chunk that cannot be taken (unknown or ended session, bad size)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class _Live:
    session_id: int
    mount: str
    source_url: str
    created: float
    last_chunk: float | None = None
    source_seen: float | None = None
    encoder: LiveEncoder | None = None
    chunks: ChunkSequencer = field(default_factory=ChunkSequencer)
    received: int = 0
    header: bytearray = field(default_factory=bytearray)
    """The WebM header (everything before the first Cluster), to restart a dead encoder with."""
    header_done: bool = False
    restarts: int = 0
    last_start: float = 0.0


CLUSTER_ID = bytes.fromhex("1f43b675")


def _keep_header(live: _Live, piece: bytes) -> None:
    if live.header_done:
        return
    at = (bytes(live.header[-3:]) + piece).find(CLUSTER_ID)
    if at < 0:
        live.header += piece
        return
    cut = at - min(3, len(live.header))
    live.header += piece[:max(cut, 0)]
    if cut < 0:
        del live.header[cut:]
    live.header_done = True


class LiveIngest:
    """Feeds browser chunks into one encoder per session and ends unfed sessions."""

    def __init__(self, on_end: Callable[[int, str], None],
                 fed_mounts: Callable[[], Iterable[str]] | None = None, *,
                 idle_s: float = 4.0, grace_s: float = 10.0, start_window_s: float = 120.0,
                 log_dir: Path | None = None, clock: Callable[[], float] = time.monotonic):
        self.on_end = on_end
        self.fed_mounts = fed_mounts
        self.idle_s, self.grace_s, self.start_window_s = idle_s, grace_s, start_window_s
        self.log_dir = log_dir
        self.clock = clock
        self._lives: dict[int, _Live] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- sessions --
    def open(self, session_id: int, mount: str, source_url: str) -> None:
        """Start watching a new live session (no encoder until the first chunk)."""
        with self._lock:
            self._lives[session_id] = _Live(session_id, mount, source_url, self.clock())

    def close(self, session_id: int, linger_s: float = 0.0,
              then: Callable[[], None] | None = None) -> None:
        """Forget a session now and close its encoder, after `linger_s`, then call `then` (idempotent).

        Lingering keeps the mount's source connected (and quiet) for a moment, so that speakers
        stop on their stop command instead of first seeing the mount vanish as a drop.
        """
        with self._lock:
            live = self._lives.pop(session_id, None)

        def finish() -> None:
            if live and live.encoder:
                live.encoder.close()
            if then is not None:
                then()

        if linger_s > 0 and live and live.encoder:
            threading.Timer(linger_s, finish).start()
        else:
            finish()

    def active(self) -> list[int]:
        """Ids of the sessions being watched."""
        with self._lock:
            return sorted(self._lives)

    def feed(self, session_id: int, seq: int, data: bytes) -> dict:
        """Take one numbered chunk; returns what was accepted so the page can show it."""
        if not 0 < len(data) <= MAX_CHUNK_BYTES:
            raise IngestError("bad_chunk", f"a chunk must hold 1 to {MAX_CHUNK_BYTES} bytes")
        if seq < 0:
            raise IngestError("bad_chunk", "seq must be 0 or more")
        with self._lock:
            live = self._lives.get(session_id)
            if live is None:
                raise IngestError("not_live", f"live session {session_id} is not on air")
            live.last_chunk = self.clock()
            live.received += 1
            ready = live.chunks.add(seq, data)
            for piece in ready:
                _keep_header(live, piece)
            if ready and (live.encoder is None or not live.encoder.alive):
                if live.encoder is not None and self.clock() - live.last_start < RESTART_GAP_S:
                    return self._accepted(live)  # Icecast refuses us: no ffmpeg per chunk
                self._start_encoder(live)
            for piece in ready:
                live.encoder.write(piece)
            return self._accepted(live)

    @staticmethod
    def _accepted(live: _Live) -> dict:
        return {"next_seq": live.chunks.next_seq, "duplicates": live.chunks.duplicates,
                "skipped": live.chunks.skipped, "encoder_restarts": live.restarts}

    def _start_encoder(self, live: _Live) -> None:
        if live.encoder is not None:
            # Icecast restarted or refused us once: a new ffmpeg needs the header again,
            # then the WebM demuxer resynchronises on the next cluster.
            live.restarts += 1
            live.encoder.close(wait_s=0.5)  # reap the dead one
            log.warning("live encoder of session %d died; restart %d", live.session_id,
                        live.restarts)
        live.last_start = self.clock()
        name = f"live-{live.session_id}.log"
        live.encoder = LiveEncoder(live.source_url,
                                   self.log_dir / name if self.log_dir else None).start()
        if live.restarts and live.header_done:
            live.encoder.write(bytes(live.header))

    # -- watchdog --
    def start(self, interval_s: float = 0.5) -> None:
        """Start the watchdog thread."""
        self._thread = threading.Thread(target=self._run, args=(interval_s,), name="live-watchdog",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the watchdog and close every encoder (the sessions are ended by the caller)."""
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        for sid in self.active():
            self.close(sid)

    def _run(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the watchdog must outlive any one failure
                log.exception("live watchdog check failed")

    def check(self) -> list[tuple[int, str]]:
        """One watchdog pass: end the sessions nobody feeds; returns (id, reason) ended."""
        fed = self._fed()
        now = self.clock()
        due = []
        with self._lock:
            for live in self._lives.values():
                if live.mount in fed:
                    live.source_seen = now
                reason = self._why_end(live, now)
                if reason:
                    due.append((live.session_id, reason))
        for sid, reason in due:
            log.warning("live session %d ends by itself: %s", sid, reason)
            self.close(sid)
            try:
                self.on_end(sid, reason)
            except Exception:  # noqa: BLE001 - log it; the next session still gets checked
                log.exception("ending live session %d failed", sid)
        return due

    def _why_end(self, live: _Live, now: float) -> str | None:
        if live.last_chunk is not None:
            if now - live.last_chunk > self.idle_s:
                return "browser_gone"
            return None
        if live.source_seen is not None:
            return "source_lost" if now - live.source_seen > self.grace_s else None
        return "no_source" if now - live.created > self.start_window_s else None

    def _fed(self) -> set[str]:
        if self.fed_mounts is None:
            return set()
        try:
            return set(self.fed_mounts())
        except Exception:  # noqa: BLE001 - an unreachable Icecast means no mount is fed
            log.warning("cannot read Icecast's mounts", exc_info=True)
            return set()
