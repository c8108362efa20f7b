"""The sender loop: delivers the outbox to the province in order, with backoff.

Why it is built this way: a record exists once its cause committed (outbox, same
transaction), so a crash or a province away for a day loses nothing; the loop only ever
reads the oldest unsent records in id order and stops at the first failure, which keeps
order per speaker without bookkeeping. A record is marked sent only after the province
answered TrangThaiGui 0; a crash between the answer and the mark sends it again with the
same record id (MaBanGhi / Idempotency-Key), which the province dedupes on.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from controller.models import Speaker, utcnow
from controller.province import messages, outbox
from controller.province.client import ProvinceClient, ProvinceError
from controller.province.mapping import Mapping
from controller.province.models import ProvinceRecord
from controller.province.settings import ProvinceSettings

log = logging.getLogger(__name__)
BATCH = 200
MARK_EVERY = 20
"""Records marked sent per write: after a crash at most this many are sent again (deduped by id)."""
MAX_BACKOFF_S = 60.0


class Sender:
    """Thread that empties the outbox and writes the heartbeat records."""

    def __init__(self, ctx, settings: ProvinceSettings, mapping: Mapping, interval_s: float = 1.0):
        self.ctx = ctx
        self.settings = settings
        self.mapping = mapping
        self.client = ProvinceClient(settings, mapping, ctx.data)
        self.tz = ZoneInfo(ctx.settings.timezone)
        self.interval_s = interval_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_heartbeat = 0.0
        self.last_success_at = None
        self.last_error: str | None = None
        self.last_error_at = None
        self.sent = 0

    def start(self) -> None:
        """Start the loop thread."""
        self._thread = threading.Thread(target=self._loop, name="province-sender", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the record in flight."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=15)

    def kick(self) -> None:
        """New records: look now instead of at the next tick."""
        self._wake.set()

    def _loop(self) -> None:
        backoff = self.interval_s
        while not self._stop.is_set():
            self._wake.wait(backoff)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.heartbeat_if_due()
                self.run_once()
                backoff = self.interval_s
            except ProvinceError:  # recorded by run_once; wait longer each time, up to a minute
                backoff = min(MAX_BACKOFF_S, max(backoff * 2, 1.0))
            except Exception as exc:
                log.exception("province sender pass failed; retrying")
                self._failed(f"{type(exc).__name__}: {exc}")
                backoff = min(MAX_BACKOFF_S, max(backoff * 2, 1.0))

    def _failed(self, reason: str) -> None:
        if reason != self.last_error:
            log.warning("province link: %s", reason)
        self.last_error, self.last_error_at = reason[:500], utcnow()

    def heartbeat_if_due(self, force: bool = False) -> int:
        """Every heartbeat_s, a status record for each registered speaker; returns how many."""
        if not force and time.monotonic() - self._last_heartbeat < self.settings.heartbeat_s:
            return 0
        self._last_heartbeat = time.monotonic()
        n = 0
        with self.ctx.db.session() as s:
            for spk in s.scalars(sa.select(Speaker).where(Speaker.revoked_at.is_(None))):
                state = dict(spk.state or {"online": spk.online})
                n += outbox.speaker_state(s, spk.id, None, state, heartbeat=True)
        return n

    def run_once(self) -> int:
        """Send unsent records oldest first (per speaker) until none is left or one fails; how many."""
        done = 0
        while not self._stop.is_set():
            with self.ctx.db.session() as s:
                batch = s.scalars(sa.select(ProvinceRecord).where(ProvinceRecord.sent_at.is_(None))
                                  .order_by(ProvinceRecord.id).limit(BATCH)).all()
                if not batch:
                    return done
                speakers: dict = {}
                lanes: dict[int, list] = {}
                for r in batch:  # one lane per group of speakers: the order is kept per speaker
                    lane = zlib.crc32(r.speaker_id.encode()) % self.settings.lanes
                    lanes.setdefault(lane, []).append(
                        (r.id, r.record_key, *messages.render(s, r, self.mapping, self.tz, speakers)))
            with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
                results = list(pool.map(self._send_lane, lanes.values()))
            done += sum(n for n, _ in results)
            errors = [e for _, e in results if e is not None]
            if errors:
                self._failed(str(errors[0]))
                raise errors[0]
        return done

    def _send_lane(self, items: list) -> tuple[int, ProvinceError | None]:
        """Send one lane's records in order, stopping at its first failure; (sent, error)."""
        sent_ids: list[int] = []
        done = 0
        for rec_id, key, operation, message in items:
            try:
                self.client.send(operation, message, key)
            except ProvinceError as exc:
                self._mark(sent_ids, failed_id=rec_id, error=str(exc))
                return done + len(sent_ids), exc
            sent_ids.append(rec_id)
            if len(sent_ids) == MARK_EVERY:
                self._mark(sent_ids)
                done += len(sent_ids)
                sent_ids = []
        self._mark(sent_ids)
        return done + len(sent_ids), None

    def _mark(self, sent_ids: list[int], failed_id: int | None = None, error: str = "") -> None:
        now = utcnow()
        with self.ctx.db.session() as s:
            t = ProvinceRecord.__table__
            for i in range(0, len(sent_ids), 500):
                s.execute(t.update().where(t.c.id.in_(sent_ids[i:i + 500]))
                          .values(sent_at=now, attempts=t.c.attempts + 1))
            if failed_id is not None:
                s.execute(t.update().where(t.c.id == failed_id)
                          .values(attempts=t.c.attempts + 1, last_error=error[:500]))
        if sent_ids:
            self.sent += len(sent_ids)
            self.last_success_at = now

    def status(self) -> dict:
        """What the Kết nối tỉnh page shows."""
        with self.ctx.db.session() as s:
            count, oldest, last_sent = outbox.queue_stats(s)
        age = (utcnow() - oldest).total_seconds() if oldest else None
        return {"enabled": True, "base_url": self.settings.base_url, "queue": count,
                "oldest_at": oldest, "oldest_age_s": age,
                "alarm": age is not None and age > self.settings.alarm_after_s,
                "last_success_at": self.last_success_at or last_sent,
                "last_error": self.last_error, "last_error_at": self.last_error_at,
                "state": "ok" if not self.last_error or (
                    self.last_success_at and self.last_error_at
                    and self.last_success_at > self.last_error_at) else "down"}
